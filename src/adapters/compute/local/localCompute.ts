import { spawn } from 'node:child_process';
import { mkdir, open, readdir, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { LedgerflowError, errorMessage } from '../../../core/errors';
import { mountPathProblem, mountPathsOverlap } from '../../../core/workflow/paths';
import { memoryBytes } from '../../../core/workflow/quantity';
import type { Logger } from '../../../observability/logger';
import { completionPoster } from '../completionReport';
import type { ComputeBackend, JobHandle, JobLaunch, JobObservation, ResolvedVolume } from '../../../ports/compute';
import {
  JOB_FILES, isJobProcess, readExitRecord, jobStateSchema, readJson, readPid, writeJsonAtomic, writeTextAtomic, type JobState,
} from './jobDir';
import {
  SANDBOX_PATH, WORKSPACE_MOUNT, detectSandbox, sandboxCommand,
  type SandboxDetection, type SandboxPlan, type SandboxPreference,
} from './sandbox';
import { SUPERVISOR_NAME, SUPERVISOR_SCRIPT } from './supervisor';
import { readWorkspaceFile, writeWorkspaceFiles } from './workspace';

export interface LocalComputeOptions {
  /** LEDGERFLOW_DATA_DIR; runs live under `<dataDir>/runs/<workflowId>/`. */
  dataDir: string;
  /** LOCAL_SANDBOX: which isolation to use; `auto` prefers bubblewrap. */
  sandbox?: SandboxPreference;
  /** LOCAL_JOB_MEMORY: address-space limit for jobs whose spec names no memory. */
  defaultMemory?: string;
  logger?: Logger;
}

export interface LocalComputeDescription {
  backend: 'local';
  sandbox: SandboxDetection['kind'] | 'none';
  description: string;
}

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const MAX_LOG_BYTES = 8 * 1024 * 1024;

function checkId(what: string, value: string): void {
  if (!SAFE_ID.test(value) || value.includes('..')) throw new LedgerflowError('bad_request', `bad ${what} ${JSON.stringify(value)}`);
}

/**
 * Compute on this machine: each job is a sandboxed process (see sandbox.ts) under a
 * detached shell supervisor (see supervisor.ts), with its state in files so that status()
 * is right after a host restart.
 *
 * Layout under `<dataDir>/runs/<workflowId>/`: `workspace/` (the code files and what jobs
 * write; /workspace in the job), `etc/` (the jobs' synthetic passwd and group) and
 * `jobs/<name>-<attempt>/` (state.json, log, exit.json, pids, markers, the unshare
 * fallback's empty root mount point). cleanup() stops leftovers and removes scratch but keeps the
 * workspace, logs and outcomes, which the API serves after the run; purge() removes the
 * run entirely.
 */
export class LocalComputeBackend implements ComputeBackend {
  readonly kind = 'local' as const;
  private readonly dataDir: string;
  private readonly detection: SandboxDetection;
  private readonly defaultMemory: string | undefined;
  private readonly log: Logger | undefined;
  private readonly launching = new Map<string, Promise<JobHandle>>();

  constructor(options: LocalComputeOptions) {
    this.dataDir = resolve(options.dataDir);
    this.detection = detectSandbox(options.sandbox ?? 'auto');
    this.defaultMemory = options.defaultMemory;
    if (this.defaultMemory !== undefined) memoryBytes(this.defaultMemory);
    this.log = options.logger;
  }

  /** For /api/health. */
  describe(): LocalComputeDescription {
    return { backend: 'local', sandbox: this.detection.kind ?? 'none', description: this.detection.description };
  }

  runDir(workflowId: string): string {
    checkId('workflow id', workflowId);
    return join(this.dataDir, 'runs', workflowId);
  }

  private workspaceDir(workflowId: string): string {
    return join(this.runDir(workflowId), 'workspace');
  }

  private jobDir(workflowId: string, jobName: string, attempt: number): string {
    checkId('job name', jobName);
    if (!Number.isSafeInteger(attempt) || attempt < 1) throw new LedgerflowError('bad_request', `bad attempt ${attempt}`);
    return join(this.runDir(workflowId), 'jobs', `${jobName}-${attempt}`);
  }

  private dirOf(handle: JobHandle): string {
    const match = /^([^/]+)\/([^/]+)-([0-9]+)$/.exec(handle.ref);
    if (handle.backend !== 'local' || !match) throw new LedgerflowError('bad_request', `not a local job handle: ${handle.ref}`);
    return this.jobDir(match[1]!, match[2]!, Number(match[3]));
  }

  async prepareWorkspace(workflowId: string, files: Record<string, string>): Promise<void> {
    const etcDir = join(this.runDir(workflowId), 'etc');
    await mkdir(join(this.runDir(workflowId), 'jobs'), { recursive: true });
    await mkdir(etcDir, { recursive: true });
    await writeSyntheticEtc(etcDir);
    await writeWorkspaceFiles(this.workspaceDir(workflowId), files);
  }

  async readWorkspaceFile(workflowId: string, path: string): Promise<Buffer | undefined> {
    return readWorkspaceFile(this.workspaceDir(workflowId), path);
  }

  launch(job: JobLaunch, volumes: ResolvedVolume[]): Promise<JobHandle> {
    const dir = this.jobDir(job.workflowId, job.jobName, job.attempt);
    const handle: JobHandle = { backend: 'local', ref: `${job.workflowId}/${job.jobName}-${job.attempt}` };
    const inFlight = this.launching.get(dir);
    if (inFlight) return inFlight;
    const launched = this.launchOnce(job, volumes, dir, handle).finally(() => this.launching.delete(dir));
    this.launching.set(dir, launched);
    return launched;
  }

  private async launchOnce(job: JobLaunch, volumes: ResolvedVolume[], dir: string, handle: JobHandle): Promise<JobHandle> {
    if (!this.detection.kind) throw new LedgerflowError('unavailable', this.detection.description);
    // Idempotent: state.json (written atomically just before the supervisor starts) marks
    // an attempt as launched, for good. A host that dies between the two leaves a job whose
    // status() is Failed ("ended without recording"); the orchestrator retries it as a new
    // attempt rather than risk running one twice.
    if (await exists(join(dir, JOB_FILES.state))) return handle;
    const mounts = await this.resolveMounts(job, volumes);
    const workspace = await realpath(this.workspaceDir(job.workflowId)).catch(() => {
      throw new LedgerflowError('conflict', `the workspace of workflow ${job.workflowId} is not prepared`);
    });
    const rootDir = join(dir, JOB_FILES.root);
    await mkdir(this.detection.kind === 'unshare' ? rootDir : dir, { recursive: true });

    const plan: SandboxPlan = {
      workspace,
      etcDir: join(this.runDir(job.workflowId), 'etc'),
      rootDir,
      volumes: mounts,
      env: { PATH: SANDBOX_PATH, HOME: WORKSPACE_MOUNT, LANG: 'C.UTF-8', ...job.env },
      command: job.command,
    };
    const timeoutSeconds = Number.isSafeInteger(job.timeoutSeconds) && job.timeoutSeconds > 0 ? job.timeoutSeconds : 3600;
    const memory = job.resources.memory ?? this.defaultMemory;
    const memoryKiB = memory === undefined ? 0 : Math.ceil(memoryBytes(memory) / 1024);
    const state: JobState = {
      workflowId: job.workflowId,
      jobName: job.jobName,
      attempt: job.attempt,
      sandbox: this.detection.kind,
      timeoutSeconds,
      startedAt: new Date().toISOString(),
    };
    await writeJsonAtomic(join(dir, JOB_FILES.state), state);

    const { file, args, fd3 } = sandboxCommand(this.detection.kind, plan);
    if (fd3 !== undefined) await writeFile(join(dir, JOB_FILES.sandboxArgs), fd3, { mode: 0o600 });
    const child = spawn('/bin/sh', ['-c', SUPERVISOR_SCRIPT, SUPERVISOR_NAME, dir, String(timeoutSeconds), String(memoryKiB), file, ...args], {
      cwd: dir,
      detached: true, // own session: the job survives the host, and the host's signals
      stdio: 'ignore',
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
    });
    // Listen before any await: a short job can end while the pid is being written.
    const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
    await new Promise<void>((ok, fail) => {
      child.once('spawn', ok);
      child.once('error', fail);
    });
    child.unref();
    await writeTextAtomic(join(dir, JOB_FILES.wrapperPid), `${child.pid}\n`);
    void exited.then(() => this.reportCompletion(job, handle));
    this.log?.info({ workflowId: job.workflowId, jobName: job.jobName, attempt: job.attempt, sandbox: this.detection.kind }, 'job started');
    return handle;
  }

  /** Checks the volumes again (the spec parser did once) and resolves their host paths. */
  private async resolveMounts(job: JobLaunch, volumes: ResolvedVolume[]): Promise<{ source: string; target: string }[]> {
    const key = (v: { datasetId: string; mountPath: string }) => `${v.datasetId}\0${v.mountPath}`;
    const wanted = new Set(job.volumes.map(key));
    const given = new Set(volumes.map(key));
    if (wanted.size !== given.size || [...wanted].some((k) => !given.has(k))) {
      throw new LedgerflowError('bad_request', `the resolved volumes of job ${job.jobName} do not match its spec`);
    }
    const dataDir = await realpath(this.dataDir);
    const mounts: { source: string; target: string }[] = [];
    for (const volume of volumes) {
      const problem = mountPathProblem(volume.mountPath);
      if (problem) throw new LedgerflowError('bad_request', `mount path ${volume.mountPath} ${problem}`);
      if (mounts.some((m) => mountPathsOverlap(m.target, volume.mountPath))) {
        throw new LedgerflowError('bad_request', `mount path ${volume.mountPath} overlaps another volume`);
      }
      if (volume.location.kind !== 'local') {
        throw new LedgerflowError('bad_request', `dataset ${volume.datasetId} is stored in Azure Files, which the local compute backend cannot mount; run it with COMPUTE=kubernetes`);
      }
      const source = await realpath(volume.location.path).catch(() => undefined);
      if (!source || !(await stat(source)).isDirectory()) {
        throw new LedgerflowError('not_found', `the storage of dataset ${volume.datasetId} was not found`);
      }
      // A dataset rooted at / or above the data dir would expose every run and the key store.
      if (source === '/' || dataDir === source || dataDir.startsWith(source + sep)) {
        throw new LedgerflowError('forbidden', `dataset ${volume.datasetId} contains the ledgerflow data directory and cannot be mounted`);
      }
      mounts.push({ source, target: volume.mountPath });
    }
    return mounts;
  }

  async status(handle: JobHandle): Promise<JobObservation> {
    const dir = this.dirOf(handle);
    const state = await readJson(join(dir, JOB_FILES.state), jobStateSchema);
    if (!state) return this.launching.has(dir) ? { phase: 'Pending', exitCode: null } : { phase: 'Unknown', exitCode: null, message: 'no such job' };
    const observation = await this.outcome(dir, state);
    if (observation) return observation;
    if (this.launching.has(dir)) return { phase: 'Pending', exitCode: null };
    const pid = await readPid(dir, JOB_FILES.wrapperPid);
    if (pid !== undefined && (await isJobProcess(pid, dir))) return { phase: 'Running', exitCode: null, startedAt: state.startedAt };
    // The supervisor may have finished between the two reads.
    return (await this.outcome(dir, state)) ?? {
      phase: 'Failed', exitCode: null, startedAt: state.startedAt,
      message: 'the job supervisor ended without recording an exit code (host reboot?)',
    };
  }

  private async outcome(dir: string, state: JobState): Promise<JobObservation | undefined> {
    const exit = await readExitRecord(dir);
    if (!exit) return undefined;
    const [timedOut, canceled] = await Promise.all([exists(join(dir, JOB_FILES.timedOut)), exists(join(dir, JOB_FILES.canceled))]);
    const observation: JobObservation = {
      phase: exit.exitCode === 0 && !timedOut && !canceled ? 'Succeeded' : 'Failed',
      exitCode: exit.exitCode,
      startedAt: state.startedAt,
      endedAt: exit.endedAt,
    };
    if (canceled) observation.message = 'canceled';
    else if (timedOut) observation.message = `timed out after ${state.timeoutSeconds}s`;
    else if (exit.exitCode !== null && exit.exitCode > 128) observation.message = `killed by signal ${exit.exitCode - 128}`;
    return observation;
  }

  async cancel(handle: JobHandle): Promise<void> {
    await this.stop(this.dirOf(handle));
  }

  private async stop(dir: string): Promise<void> {
    await this.launching.get(dir)?.catch(() => undefined);
    if (!(await exists(join(dir, JOB_FILES.state))) || (await exists(join(dir, JOB_FILES.exit)))) return;
    await writeFile(join(dir, JOB_FILES.canceled), '');
    const wrapperPid = await readPid(dir, JOB_FILES.wrapperPid);
    // The supervisor leads its process group (detached spawn); the group holds the job.
    if (wrapperPid !== undefined && (await isJobProcess(wrapperPid, dir))) signal(-wrapperPid, 'SIGKILL');
    if (!(await exists(join(dir, JOB_FILES.exit)))) await writeJsonAtomic(join(dir, JOB_FILES.exit), { exitCode: 137 });
  }

  async logs(handle: JobHandle): Promise<string> {
    const file = join(this.dirOf(handle), JOB_FILES.log);
    let fh;
    try {
      fh = await open(file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw err;
    }
    try {
      const { size } = await fh.stat();
      const start = Math.max(0, size - MAX_LOG_BYTES);
      const buffer = Buffer.alloc(size - start);
      await fh.read(buffer, 0, buffer.length, start);
      return (start > 0 ? `[... first ${start} bytes of the log left out ...]\n` : '') + buffer.toString('utf8');
    } finally {
      await fh.close();
    }
  }

  /** Stops whatever of the run still runs and removes job scratch; keeps the workspace,
   * logs and outcomes. */
  async cleanup(workflowId: string): Promise<void> {
    const jobsDir = join(this.runDir(workflowId), 'jobs');
    const entries = await readdir(jobsDir).catch(() => [] as string[]);
    for (const entry of entries) {
      const dir = join(jobsDir, entry);
      await this.stop(dir);
      await rm(join(dir, JOB_FILES.root), { recursive: true, force: true });
    }
  }

  /** Removes the run entirely (results and logs included). */
  async purge(workflowId: string): Promise<void> {
    await this.cleanup(workflowId);
    await rm(this.runDir(workflowId), { recursive: true, force: true });
  }

  /** Best effort: the orchestrator also polls status(). Never logs the token. */
  private async reportCompletion(job: JobLaunch, handle: JobHandle): Promise<void> {
    const context = { workflowId: job.workflowId, jobName: job.jobName, attempt: job.attempt };
    try {
      const observation = await this.status(handle);
      this.log?.info({ ...context, exitCode: observation.exitCode }, 'job ended');
      await postCompletion(job.callback.url, job.callback.token, {
        ...context,
        exitCode: observation.exitCode,
        ...(observation.startedAt !== undefined && { startedAt: observation.startedAt }),
        ...(observation.endedAt !== undefined && { endedAt: observation.endedAt }),
      });
    } catch (err) {
      this.log?.warn({ ...context, err: errorMessage(err) }, 'job completion callback failed');
    }
  }
}

const postCompletion = completionPoster(10_000);

async function exists(file: string): Promise<boolean> {
  return stat(file).then(() => true, () => false);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** passwd and group naming only root and the job's user: tools that look the user up
 * (whoami, python's getpass) work without seeing the host's accounts. */
async function writeSyntheticEtc(etcDir: string): Promise<void> {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const users = ['root:x:0:0:root:/workspace:/bin/sh'];
  const groups = ['root:x:0:'];
  if (uid !== 0) users.push(`job:x:${uid}:${gid}:job:/workspace:/bin/sh`);
  if (gid !== 0) groups.push(`job:x:${gid}:`);
  users.push('nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin');
  groups.push('nogroup:x:65534:');
  await writeFile(join(etcDir, 'passwd'), `${users.join('\n')}\n`);
  await writeFile(join(etcDir, 'group'), `${groups.join('\n')}\n`);
}

