import { BACKUP_MANIFEST, backupManifestSchema } from '../../../core/backup';
import { constants, existsSync, lchownSync, mkdirSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Readable } from 'node:stream';
import { lchown, mkdir, open, readdir, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { LedgerflowError, errorMessage } from '../../../core/errors';
import { mountPathProblem, mountPathsOverlap } from '../../../core/workflow/paths';
import { cpuCount, memoryBytes } from '../../../core/workflow/quantity';
import type { Logger } from '../../../observability/logger';
import { completionPoster } from '../completionReport';
import type {
  ByteSource,
  ComputeBackend,
  ExitDelivery,
  JobHandle,
  JobLaunch,
  JobObservation,
  RecoversExits,
  ResolvedVolume,
  TimedLine,
  TimedLogQuery,
  UnreportedExit,
} from '../../../ports/compute';
import { MAX_LOG_PIECE, TAIL_WINDOW_BYTES, TimedLineSplitter, parseLogIndex, sinceOffset } from '../../../core/logTimes';
import { JOB_FILES, isJobProcess, readExitRecord, jobStateSchema, readJson, readPid, writeJsonAtomic, type JobState } from './jobDir';
import {
  SANDBOX_PATH,
  WORKSPACE_MOUNT,
  detectSandbox,
  jobUserFor,
  stagedSandbox,
  type JobUser,
  type SandboxDetection,
  type SandboxKind,
  type SandboxPlan,
  type SandboxPreference,
} from './sandbox';
import { RunSlots } from './slots';
import { JobCgroups, type CgroupMode, type JobLimits } from './cgroups';
import { LOG_INDEX, nativeSupervisor, supervisorCommand, type SupervisorCommand } from './supervisor';
import { supervisorSpawner, type SupervisorSpawner } from './spawner';
import { fileSource, openWorkspaceFile, readAll, readWorkspaceFile, workspaceDigests, writeWorkspaceFiles } from './workspace';

/** A job made ready to start: its limits, and its supervisor's arguments given its cgroups. */
interface Prepared {
  limits: JobLimits;
  timeoutSeconds: number;
  supervisor: (procs: string[]) => SupervisorCommand;
}

/** A job's supervisor (a separate process) may still be writing its exit record while a run's
 * directory is removed: a recursive rm that meets a file created behind it fails with
 * ENOTEMPTY, so it tries again (node's own retry, 100 ms apart) rather than fail the purge. */
const REMOVE_TREE = { recursive: true, force: true, maxRetries: 5, retryDelay: 100 } as const;

export interface LocalComputeOptions {
  /** LEDGERFLOW_DATA_DIR; runs live under `<dataDir>/runs/<workflowId>/`. */
  dataDir: string;
  /** LOCAL_SANDBOX: which isolation to use; `auto` prefers bubblewrap. */
  sandbox?: SandboxPreference;
  /** What probeSandbox(sandbox, jobUserFor(jobUser)) found, when the caller probed ahead
   * (without blocking); otherwise the constructor probes. */
  detection?: SandboxDetection;
  /** LOCAL_JOB_MEMORY: memory limit of jobs whose spec names no memory. */
  defaultMemory?: string;
  /** LOCAL_JOB_UID / LOCAL_JOB_GID: who jobs run as when the host is root. */
  jobUser?: { uid: number; gid: number };
  /** LOCAL_JOB_LOG_BYTES: a job's log keeps at most this much of its output. */
  logBytes?: number;
  /** LOCAL_JOB_DISK: bytes a run's workspace may hold; also the largest file a job may write. */
  diskBytes?: number;
  /** LOCAL_JOB_PIDS: processes a job may have at once. */
  pids?: number;
  /** LOCAL_MAX_RUNNING_JOBS: jobs running at once on this host; more wait Pending. */
  maxRunning?: number;
  /** Where to make per-job cgroups (tests); default /sys/fs/cgroup. */
  cgroupRoot?: string;
  /** Which job supervisor (see supervisor.ts): the C one where `npm run build` made it, else
   * the shell one; tests ask for the shell one too. */
  supervisor?: 'native' | 'sh';
  logger?: Logger;
}

export interface LocalComputeDescription {
  backend: 'local';
  sandbox: SandboxDetection['kind'] | 'none';
  description: string;
  jobUser: JobUser;
  limits: { cgroup: CgroupMode; maxRunningJobs: number; pids: number; defaultMemory: string; logBytes: number; diskBytes: number; disk: string };
}

export const DEFAULT_JOB_USER = { uid: 61000, gid: 61000 };
const DEFAULT_LOG_BYTES = 16 * 1024 * 1024;
const DEFAULT_DISK_BYTES = 10 * 1024 ** 3;
const DEFAULT_PIDS = 512;
const DEFAULT_MEMORY = '4Gi';

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** One cgroup per job attempt, named after it (ids are checked safe names). */
const cgroupName = (job: JobLaunch): string => `${job.workflowId}.${job.jobName}-${job.attempt}`;

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
export class LocalComputeBackend implements ComputeBackend, RecoversExits {
  readonly kind = 'local' as const;
  private readonly dataDir: string;
  private readonly detection: SandboxDetection;
  private readonly defaultMemory: string;
  private readonly user: JobUser;
  private readonly logBytes: number;
  private readonly diskBytes: number;
  private readonly pids: number;
  private readonly cgroups: JobCgroups;
  private readonly slots: RunSlots;
  private readonly log: Logger | undefined;
  private readonly launching = new Map<string, Promise<JobHandle>>();
  private readonly spawner: SupervisorSpawner = supervisorSpawner();
  /** The C supervisor's path, when it is used. */
  private readonly native: string | undefined;
  /** Job dirs whose cgroups the spawner removed when the job ended: cleanup() need not try
   * (each try is a cgroupfs call per hierarchy on the main thread). */
  private readonly groupsRemoved = new Set<string>();
  /** Where exits go in process, once the app has said (deliverExitsTo). */
  private deliverExit: ExitDelivery | undefined;

  constructor(options: LocalComputeOptions) {
    this.dataDir = resolve(options.dataDir);
    this.user = jobUserFor(options.jobUser ?? DEFAULT_JOB_USER);
    this.detection = options.detection ?? detectSandbox(options.sandbox ?? 'auto', this.user);
    this.logBytes = options.logBytes ?? DEFAULT_LOG_BYTES;
    this.diskBytes = options.diskBytes ?? DEFAULT_DISK_BYTES;
    this.pids = options.pids ?? DEFAULT_PIDS;
    this.cgroups = JobCgroups.detect(options.cgroupRoot);
    this.slots = new RunSlots(options.maxRunning ?? 2 * availableParallelism());
    this.defaultMemory = options.defaultMemory ?? DEFAULT_MEMORY;
    memoryBytes(this.defaultMemory);
    this.log = options.logger;
    this.native = options.supervisor === 'sh' ? undefined : nativeSupervisor();
    if (options.supervisor === 'native' && this.native === undefined) {
      throw new LedgerflowError('unavailable', 'the C job supervisor was not built (npm run build needs a C compiler)');
    }
  }

  /** For /api/health. */
  describe(): LocalComputeDescription {
    return {
      backend: 'local',
      sandbox: this.detection.kind ?? 'none',
      description: this.detection.description,
      jobUser: this.user,
      limits: {
        cgroup: this.cgroups.mode,
        maxRunningJobs: this.slots.max,
        pids: this.pids,
        defaultMemory: this.defaultMemory,
        logBytes: this.logBytes,
        diskBytes: this.diskBytes,
        disk: 'RLIMIT_FSIZE per file and a once-a-second du of the run workspace',
      },
    };
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

  private handleOf(workflowId: string, jobName: string, attempt: number): JobHandle {
    return { backend: 'local', ref: `${workflowId}/${jobName}-${attempt}` };
  }

  private dirOf(handle: JobHandle): string {
    const match = /^([^/]+)\/([^/]+)-([0-9]+)$/.exec(handle.ref);
    if (handle.backend !== 'local' || !match) throw new LedgerflowError('bad_request', `not a local job handle: ${handle.ref}`);
    return this.jobDir(match[1]!, match[2]!, Number(match[3]));
  }

  async prepareWorkspace(workflowId: string, files: Record<string, string>): Promise<void> {
    const etcDir = join(this.runDir(workflowId), 'etc');
    await mkdir(join(this.dataDir, 'runs'), { recursive: true, mode: 0o700 });
    await mkdir(join(this.runDir(workflowId), 'jobs'), { recursive: true });
    await mkdir(etcDir, { recursive: true });
    await writeSyntheticEtc(etcDir, this.user);
    await writeWorkspaceFiles(this.workspaceDir(workflowId), files);
    // The job user writes here; the host (root) still reads and removes everything.
    if (this.user.mode === 'dedicated') await chownTree(this.workspaceDir(workflowId), this.user);
  }

  async readWorkspaceFile(workflowId: string, path: string): Promise<Buffer | undefined> {
    return readWorkspaceFile(this.workspaceDir(workflowId), path);
  }

  openWorkspaceFile(workflowId: string, path: string): Promise<ByteSource | undefined> {
    return openWorkspaceFile(this.workspaceDir(workflowId), path);
  }

  /** The log as the supervisor wrote it (capped at logBytes plus its marker line), and a
   * last line saying why the backend stopped the job, if it did: the supervisor kills the
   * job's whole process group, log writer included, so it cannot write that line itself. */
  async openLog(handle: JobHandle): Promise<ByteSource> {
    return (await this.openLogFile(this.dirOf(handle))).source;
  }

  private async openLogFile(dir: string): Promise<{ source: ByteSource; fileSize: number; mtimeNs: bigint; trailer: boolean }> {
    const reason = await this.stopReason(dir);
    const trailer = Buffer.from(reason === undefined ? '' : `\n[ledgerflow: ${reason}]\n`);
    const fh = await open(join(dir, JOB_FILES.log), constants.O_RDONLY | constants.O_NOFOLLOW).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    const stats = fh === undefined ? undefined : await fh.stat({ bigint: true });
    const fileSize = Number(stats?.size ?? 0n);
    const log = fh === undefined ? undefined : fileSource(fh, fileSize);
    return { source: withTrailer(log, trailer), fileSize, mtimeNs: stats?.mtimeNs ?? 0n, trailer: trailer.length > 0 };
  }

  /**
   * The log as timed lines, from the supervisor's index (see supervisor.ts and
   * src/core/logTimes.ts): a line takes the time of the sample that first covered its end.
   * While the job runs, only the bytes some sample covers are served: the time of the bytes
   * after the last sample is not known yet (the log's mtime would give them a time that a
   * later sample raises), and a follower must see each line with one time. Once the job has
   * ended they take the log's mtime (the exit record's for the backend's own last line).
   * Reads from a little before the `since` cutoff (the start of the line it falls in, within
   * MAX_LOG_PIECE) and at most TAIL_WINDOW_BYTES for a tail, so neither costs more on a huge log.
   */
  async timedLog(handle: JobHandle, query: TimedLogQuery): Promise<AsyncIterable<TimedLine> | Iterable<TimedLine> | undefined> {
    const dir = this.dirOf(handle);
    if (!existsSync(join(dir, JOB_FILES.state))) return undefined;
    const exit = await stat(join(dir, JOB_FILES.exit), { bigint: true }).catch(() => undefined);
    const { source, fileSize, mtimeNs, trailer } = await this.openLogFile(dir);
    const endTime = exit !== undefined && trailer ? exit.mtimeNs : mtimeNs;
    const index = parseLogIndex(await readHead(join(dir, JOB_FILES.logIndex), LOG_INDEX_MAX_BYTES), fileSize, endTime, LOG_INDEX.maxEntries);
    const end = exit !== undefined ? source.size : (index.samples.at(-1)?.offset ?? 0);
    let from = query.since === undefined ? 0 : Math.max(0, sinceOffset(index, end, query.since.nanos) - MAX_LOG_PIECE);
    if (query.tail !== undefined) from = Math.max(from, end - TAIL_WINDOW_BYTES);
    if (from >= end) {
      await source.close();
      return [];
    }
    const splitter = new TimedLineSplitter(index, from);
    return (async function* lines(): AsyncGenerator<TimedLine> {
      for await (const chunk of source.read(from, end - 1)) yield* splitter.push(chunk as Buffer);
      yield* splitter.end();
    })();
  }

  /** Why the backend (not the job) ended an attempt, or one of its processes: a limit. */
  private async stopReason(dir: string): Promise<string | undefined> {
    const present = markers(dir);
    const state = present.has(JOB_FILES.timedOut) ? await readJson(join(dir, JOB_FILES.state), jobStateSchema) : undefined;
    return this.stopReasonOf(present, state);
  }

  /** stopReason() from the markers in the job dir and its state. */
  private stopReasonOf(present: ReadonlySet<string>, state: JobState | undefined): string | undefined {
    if (present.has(JOB_FILES.diskQuota)) return `stopped: the run's disk quota of ${this.diskBytes} bytes (LOCAL_JOB_DISK) was exceeded`;
    if (state !== undefined && present.has(JOB_FILES.timedOut)) return `timed out after ${state.timeoutSeconds}s`;
    if (present.has(JOB_FILES.oom)) return 'a process was killed: the job ran out of its memory limit';
    return undefined;
  }

  launch(job: JobLaunch, volumes: ResolvedVolume[]): Promise<JobHandle> {
    const dir = this.jobDir(job.workflowId, job.jobName, job.attempt);
    const handle = this.handleOf(job.workflowId, job.jobName, job.attempt);
    const inFlight = this.launching.get(dir);
    if (inFlight) return inFlight;
    const launched = this.launchOnce(job, volumes, dir, handle).finally(() => this.launching.delete(dir));
    this.launching.set(dir, launched);
    return launched;
  }

  private async launchOnce(job: JobLaunch, volumes: ResolvedVolume[], dir: string, handle: JobHandle): Promise<JobHandle> {
    const kind = this.detection.kind;
    if (!kind) throw new LedgerflowError('unavailable', this.detection.description);
    // Idempotent: state.json (written atomically just before the supervisor starts) marks
    // an attempt as launched, for good. A host that dies between the two leaves a job whose
    // status() is Failed ("ended without recording"); the orchestrator retries it as a new
    // attempt rather than risk running one twice.
    if (existsSync(join(dir, JOB_FILES.state))) return handle;
    const mounts = await this.resolveMounts(job, volumes);
    // The job's files are written before it takes a run slot: a slot then stands for a
    // running job, not for the host's file work too (a trivial job held its slot ~60 ms
    // before its supervisor started, under load). Its cgroups, which count it as running,
    // come with the slot.
    const prepared = await this.prepare(kind, job, mounts, dir);
    const release = await this.slots.acquire(dir, job.workflowId);
    try {
      return await this.start(kind, job, prepared, dir, handle, release);
    } catch (err) {
      release();
      throw err;
    }
  }

  /** The job dir and sandbox arguments; returns the job's limits and the supervisor's
   * arguments given the job's cgroups. */
  private async prepare(kind: SandboxKind, job: JobLaunch, mounts: { source: string; target: string }[], dir: string): Promise<Prepared> {
    // Canonical: the stage shows the run dir to the dedicated user, who finds the workspace,
    // etc dir and job dir at their paths relative to it.
    let workspace: string;
    try {
      workspace = realpathSync.native(this.workspaceDir(job.workflowId));
    } catch {
      throw new LedgerflowError('conflict', `the workspace of workflow ${job.workflowId} is not prepared`);
    }
    const runDir = dirname(workspace);
    const jobDir = join(runDir, relative(this.runDir(job.workflowId), dir));
    const rootDir = join(jobDir, JOB_FILES.root);
    const dedicated = this.user.mode === 'dedicated';
    // The unshare fallback mounts the job's root on rootDir, which belongs to the job user
    // when staged; the stage binds each dataset onto an empty directory of the job dir.
    mkdirSync(kind === 'unshare' ? rootDir : dir, { recursive: true });
    if (kind === 'unshare' && dedicated) lchownSync(rootDir, this.user.uid, this.user.gid);
    const volumePoints = dedicated ? mounts.map((_, i) => join(jobDir, JOB_FILES.mounts, `v${i}`)) : [];
    for (const point of volumePoints) mkdirSync(point, { recursive: true });

    const plan: SandboxPlan = {
      workspace,
      etcDir: join(runDir, 'etc'),
      rootDir,
      volumes: mounts,
      env: { PATH: SANDBOX_PATH, HOME: WORKSPACE_MOUNT, LANG: 'C.UTF-8', ...job.env },
      command: job.command,
    };
    const timeoutSeconds = Number.isSafeInteger(job.timeoutSeconds) && job.timeoutSeconds > 0 ? job.timeoutSeconds : 3600;
    const memory = job.resources.memory ?? this.defaultMemory;
    const limits: JobLimits = {
      memoryBytes: memoryBytes(memory),
      pids: this.pids,
      cpu: job.resources.cpu === undefined ? undefined : cpuCount(job.resources.cpu),
    };
    // Without cgroups, the closest rlimits: per-process address space and, for the dedicated
    // job user only (it counts every process of the uid), the process count.
    const rlimits = this.cgroups.mode === 'rlimits';
    const memoryKiB = rlimits ? Math.ceil(limits.memoryBytes / 1024) : 0;
    const nproc = rlimits && this.user.mode === 'dedicated' ? limits.pids : 0;

    const staged = stagedSandbox(kind, plan, this.user, { runDir, volumePoints });
    if (staged.sandbox.fd3 !== undefined) writeFileSync(join(dir, JOB_FILES.sandboxArgs), staged.sandbox.fd3, { mode: 0o600 });
    const common = (procs: string[]) => [
      dir,
      String(timeoutSeconds),
      String(memoryKiB),
      String(this.logBytes),
      String(Math.ceil(this.diskBytes / 512)),
      String(nproc),
      procs.length === 0 ? '-' : procs.join(' '),
      String(Math.ceil(this.diskBytes / 1024)),
      workspace,
    ];
    return { limits, timeoutSeconds, supervisor: (procs) => supervisorCommand(this.native, common(procs), staged) };
  }

  /** Makes the job's cgroups, records the launch (state.json) and starts its supervisor. */
  private async start(kind: SandboxKind, job: JobLaunch, prepared: Prepared, dir: string, handle: JobHandle, release: () => void): Promise<JobHandle> {
    const groups = this.cgroups.plan(cgroupName(job), prepared.limits);
    const state: JobState = {
      workflowId: job.workflowId,
      jobName: job.jobName,
      attempt: job.attempt,
      sandbox: kind,
      timeoutSeconds: prepared.timeoutSeconds,
      startedAt: new Date().toISOString(),
    };
    await writeJsonAtomic(join(dir, JOB_FILES.state), state);
    // Detached (own session): the job survives the host, and the host's signals. The spawner
    // makes the job's groups first and removes them once it exited, and writes the pid file
    // before the start resolves.
    const command = prepared.supervisor(groups?.procs ?? []);
    const supervisor = await this.spawner.start(command.file, command.args, {
      cwd: dir,
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
      pidFile: join(dir, JOB_FILES.wrapperPid),
      ...(groups !== undefined && { cgroups: groups.plan }),
    });
    void supervisor.exited.then(async ({ groupsRemoved }) => {
      release();
      if (groups !== undefined && groupsRemoved) this.groupsRemoved.add(dir);
      await this.reportCompletion(job, handle, dir, state);
    });
    this.log?.info({ workflowId: job.workflowId, jobName: job.jobName, attempt: job.attempt, sandbox: kind }, 'job started');
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
    // Only a job with datasets needs it: most have none.
    const dataDir = volumes.length === 0 ? '' : await realpath(this.dataDir);
    const mounts: { source: string; target: string }[] = [];
    for (const volume of volumes) {
      const problem = mountPathProblem(volume.mountPath);
      if (problem) throw new LedgerflowError('bad_request', `mount path ${volume.mountPath} ${problem}`);
      if (mounts.some((m) => mountPathsOverlap(m.target, volume.mountPath))) {
        throw new LedgerflowError('bad_request', `mount path ${volume.mountPath} overlaps another volume`);
      }
      if (volume.location.kind !== 'local') {
        throw new LedgerflowError(
          'bad_request',
          `dataset ${volume.datasetId} is stored in Azure Files, which the local compute backend cannot mount; run it with COMPUTE=kubernetes`,
        );
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
    return (
      (await this.outcome(dir, state)) ?? {
        phase: 'Failed',
        exitCode: null,
        startedAt: state.startedAt,
        message: await this.lostSupervisorReason(state),
      }
    );
  }

  /** A data dir restored from a backup holds jobs that were running when it was taken:
   * their processes are not part of the backup, which the run's status says. */
  private async lostSupervisorReason(state: JobState): Promise<string> {
    const manifest = await readJson(join(this.dataDir, BACKUP_MANIFEST), backupManifestSchema.pick({ createdAt: true }));
    return manifest !== undefined && Date.parse(state.startedAt) <= Date.parse(manifest.createdAt)
      ? `interrupted by a restore: the job was running when the backup of ${manifest.createdAt} was taken, and its process is not part of a backup`
      : 'the job supervisor ended without recording an exit code (host reboot?)';
  }

  private async outcome(dir: string, state: JobState): Promise<JobObservation | undefined> {
    const exit = await readExitRecord(dir);
    if (!exit) return undefined;
    // One listing for every marker: this runs for each job that ends.
    const present = markers(dir);
    const timedOut = present.has(JOB_FILES.timedOut);
    const canceled = present.has(JOB_FILES.canceled);
    const observation: JobObservation = {
      phase: exit.exitCode === 0 && !timedOut && !canceled ? 'Succeeded' : 'Failed',
      exitCode: exit.exitCode,
      startedAt: state.startedAt,
      endedAt: exit.endedAt,
    };
    const stopped = canceled ? undefined : this.stopReasonOf(present, state);
    if (canceled) observation.message = 'canceled';
    else if (stopped !== undefined) observation.message = stopped;
    else if (exit.exitCode !== null && exit.exitCode > 128) observation.message = `killed by signal ${exit.exitCode - 128}`;
    return observation;
  }

  async cancel(handle: JobHandle): Promise<void> {
    await this.stop(this.dirOf(handle));
  }

  private async stop(dir: string): Promise<void> {
    this.slots.abandon(dir);
    await this.launching.get(dir)?.catch(() => undefined);
    if (!existsSync(join(dir, JOB_FILES.state)) || existsSync(join(dir, JOB_FILES.exit))) return;
    await writeFile(join(dir, JOB_FILES.canceled), '');
    const wrapperPid = await readPid(dir, JOB_FILES.wrapperPid);
    // The supervisor leads its process group (detached spawn); the group holds the job.
    if (wrapperPid !== undefined && (await isJobProcess(wrapperPid, dir))) signal(-wrapperPid, 'SIGKILL');
    if (!existsSync(join(dir, JOB_FILES.exit))) await writeJsonAtomic(join(dir, JOB_FILES.exit), { exitCode: 137 });
  }

  async logs(handle: JobHandle): Promise<string> {
    return (await readAll(await this.openLog(handle))).toString('utf8');
  }

  /** Stops whatever of the run still runs and removes job scratch; keeps the workspace,
   * logs and outcomes. */
  async cleanup(workflowId: string): Promise<void> {
    const jobsDir = join(this.runDir(workflowId), 'jobs');
    this.slots.forget(workflowId);
    const entries = await readdir(jobsDir).catch(() => [] as string[]);
    for (const entry of entries) {
      const dir = join(jobsDir, entry);
      await this.stop(dir);
      if (!this.groupsRemoved.delete(dir)) await this.cgroups.remove(`${workflowId}.${entry}`);
      // Most jobs have neither (the unshare fallback's root, datasets' mount points).
      for (const scratch of [JOB_FILES.root, JOB_FILES.mounts]) if (existsSync(join(dir, scratch))) await rm(join(dir, scratch), REMOVE_TREE);
    }
  }

  workspaceFiles(workflowId: string): Promise<{ path: string; size: number; sha256: string }[]> {
    return workspaceDigests(this.workspaceDir(workflowId));
  }

  /** Stops what still runs, then removes the workspace and every attempt's log; the jobs'
   * outcomes stay (status() keeps answering). */
  async deleteOutputs(workflowId: string): Promise<void> {
    await this.cleanup(workflowId);
    await rm(this.workspaceDir(workflowId), REMOVE_TREE);
    const jobsDir = join(this.runDir(workflowId), 'jobs');
    for (const entry of await readdir(jobsDir).catch(() => [] as string[])) await rm(join(jobsDir, entry, JOB_FILES.log), { force: true });
  }

  /** Removes the run entirely (results and logs included). */
  async purge(workflowId: string): Promise<void> {
    await this.cleanup(workflowId);
    await rm(this.runDir(workflowId), REMOVE_TREE);
  }

  /** Every attempt with a recorded exit and no `reported` marker: the ones whose callback
   * went to a host that is gone. One directory listing per run and a stat per job. */
  async unreportedExits(): Promise<UnreportedExit[]> {
    const runsDir = join(this.dataDir, 'runs');
    const found: UnreportedExit[] = [];
    for (const workflowId of await readdir(runsDir).catch(() => [] as string[])) {
      if (!SAFE_ID.test(workflowId)) continue;
      const jobsDir = join(runsDir, workflowId, 'jobs');
      for (const entry of await readdir(jobsDir).catch(() => [] as string[])) {
        const match = /^(.+)-([0-9]+)$/.exec(entry);
        if (!match || !SAFE_ID.test(match[1]!)) continue;
        const dir = join(jobsDir, entry);
        if (existsSync(join(dir, JOB_FILES.reported)) || !existsSync(join(dir, JOB_FILES.exit))) continue;
        const state = await readJson(join(dir, JOB_FILES.state), jobStateSchema);
        const observation = state && (await this.outcome(dir, state));
        if (!observation) continue; // not yet known: the supervisor is still recording it
        const handle = this.handleOf(workflowId, match[1]!, Number(match[2]));
        found.push({
          workflowId,
          jobName: match[1]!,
          attempt: Number(match[2]),
          handle,
          exitCode: observation.exitCode,
          ...(observation.startedAt !== undefined && { startedAt: observation.startedAt }),
          ...(observation.endedAt !== undefined && { endedAt: observation.endedAt }),
        });
      }
    }
    return found;
  }

  async markReported(handle: JobHandle): Promise<void> {
    writeFileSync(join(this.dirOf(handle), JOB_FILES.reported), '');
  }

  deliverExitsTo(deliver: ExitDelivery | undefined): void {
    this.deliverExit = deliver;
  }

  /** False when no one in this process took the exit: then the callback is next. */
  private async deliverInProcess(report: Parameters<ExitDelivery>[0]): Promise<boolean> {
    const deliver = this.deliverExit;
    if (deliver === undefined) return false;
    try {
      return await deliver(report);
    } catch (err) {
      this.log?.warn(
        { workflowId: report.workflowId, jobName: report.jobName, attempt: report.attempt, err: errorMessage(err) },
        'in-process delivery of a job exit failed; trying the callback',
      );
      return false;
    }
  }

  /** Best effort: the orchestrator also polls status(). Never logs the token. */
  private async reportCompletion(job: JobLaunch, handle: JobHandle, dir: string, state: JobState): Promise<void> {
    const context = { workflowId: job.workflowId, jobName: job.jobName, attempt: job.attempt };
    try {
      // The state this process wrote; the general status() covers a supervisor that recorded nothing.
      const observation = (await this.outcome(dir, state)) ?? (await this.status(handle));
      this.log?.info({ ...context, exitCode: observation.exitCode }, 'job ended');
      const report = {
        ...context,
        exitCode: observation.exitCode,
        ...(observation.startedAt !== undefined && { startedAt: observation.startedAt }),
        ...(observation.endedAt !== undefined && { endedAt: observation.endedAt }),
        ...(observation.message !== undefined && { message: observation.message }),
      };
      // Only a report that reached its orchestration is marked delivered: in process, or one
      // the callback accepted (the poster throws for a refused one).
      if (!(await this.deliverInProcess(report))) await postCompletion(job.callback.url, job.callback.token, report);
      await this.markReported(handle);
    } catch (err) {
      this.log?.warn({ ...context, err: errorMessage(err) }, 'job completion callback failed');
    }
  }
}

/** A log followed by a few bytes of our own, as one ByteSource. */
function withTrailer(log: ByteSource | undefined, trailer: Buffer): ByteSource {
  const logSize = log?.size ?? 0;
  return {
    size: logSize + trailer.length,
    read(start, end) {
      async function* bytes(): AsyncGenerator<Buffer> {
        if (log !== undefined && start < logSize) yield* log.read(start, Math.min(end, logSize - 1)) as AsyncIterable<Buffer>;
        else await log?.close();
        if (end >= logSize) yield trailer.subarray(Math.max(0, start - logSize), end - logSize + 1);
      }
      return Readable.from(bytes());
    },
    close: async () => log?.close(),
  };
}

const postCompletion = completionPoster(10_000);

/** The most of log.index read: its bound, LOG_INDEX.maxEntries lines of at most 40 bytes
 * (an offset of up to 15 digits, a time of 10 + 9, two separators and a newline). */
const LOG_INDEX_MAX_BYTES = LOG_INDEX.maxEntries * 40;

/** At most the first `max` bytes of a file (none when it is missing), not following a link. */
async function readHead(file: string, max: number): Promise<string> {
  const fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => undefined);
  if (fh === undefined) return '';
  try {
    const buffer = Buffer.alloc(max);
    const { bytesRead } = await fh.read(buffer, 0, max, 0);
    return buffer.subarray(0, bytesRead).toString('latin1');
  } finally {
    await fh.close();
  }
}

/*
 * The job dir's small files are read and written with synchronous calls: each takes
 * microseconds (page cache, a small directory), where the promise API costs a round trip
 * through libuv's threads per call (a wake-up, a completion, a promise, and an Error with
 * its stack for each missing file), which was ~2 ms of host CPU a job over its ~25 calls.
 * What waits on the disk (the fsyncs of writeJsonAtomic) stays off the main thread.
 */

/** The names in a job dir (none when it is gone). */
function markers(dir: string): Set<string> {
  try {
    return new Set(readdirSync(dir));
  } catch {
    return new Set();
  }
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
async function writeSyntheticEtc(etcDir: string, user: JobUser): Promise<void> {
  const { uid, gid } = user;
  const users = ['root:x:0:0:root:/workspace:/bin/sh'];
  const groups = ['root:x:0:'];
  if (uid !== 0) users.push(`job:x:${uid}:${gid}:job:/workspace:/bin/sh`);
  if (gid !== 0) groups.push(`job:x:${gid}:`);
  users.push('nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin');
  groups.push('nogroup:x:65534:');
  await writeFile(join(etcDir, 'passwd'), `${users.join('\n')}\n`);
  await writeFile(join(etcDir, 'group'), `${groups.join('\n')}\n`);
}

/** Hands a tree the host just wrote to the job user, without following links. */
async function chownTree(dir: string, user: JobUser): Promise<void> {
  await lchown(dir, user.uid, user.gid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(path, user);
    else await lchown(path, user.uid, user.gid);
  }
}
