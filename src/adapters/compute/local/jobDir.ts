import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../../fs/atomicFile';

/**
 * One job attempt's directory, `<dataDir>/runs/<workflowId>/jobs/<name>-<attempt>/`, and
 * the files in it. It survives host restarts: status() is answered from here alone.
 */
export const jobStateSchema = z.object({
  workflowId: z.string(),
  jobName: z.string(),
  attempt: z.number(),
  sandbox: z.string(),
  timeoutSeconds: z.number(),
  startedAt: z.string(),
});
export type JobState = z.infer<typeof jobStateSchema>;

const exitFileSchema = z.object({ exitCode: z.number().int().nullable() });
export interface ExitRecord {
  exitCode: number | null;
  /** The exit file's mtime: the supervisor writes it the moment the sandbox is reaped. */
  endedAt: string;
}

export const JOB_FILES = {
  state: 'state.json',
  exit: 'exit.json',
  log: 'log',
  /** The supervisor's (byte offset, time) samples of the log (see supervisor.ts). */
  logIndex: 'log.index',
  /** The sandbox program's options, read from descriptor 3 (see SandboxCommand.fd3). */
  sandboxArgs: 'sandbox.args',
  /** Written by the host once the supervisor runs. */
  wrapperPid: 'wrapper.pid',
  timedOut: 'timed-out',
  /** Marker: the run's workspace outgrew LOCAL_JOB_DISK. */
  diskQuota: 'disk-quota',
  /** Marker: the job's memory cgroup killed one of its processes. */
  oom: 'oom',
  /** The sandbox's exit code, written by the supervisor before exit.json. */
  status: 'status',
  canceled: 'canceled',
  /** Written once the exit reached the job's orchestration (callback or start-up scan). */
  reported: 'reported',
  /** Scratch, removed by cleanup: the unshare fallback's root mount point. */
  root: 'root',
  /** Scratch, removed by cleanup: the empty directories the stage binds datasets onto. */
  mounts: 'mounts',
} as const;

/** Synchronous: a job dir's JSON files are a few hundred bytes (see localCompute.ts markers()). */
export async function readJson<T>(file: string, schema: z.ZodType<T>): Promise<T | undefined> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined; // empty or torn (an older supervisor wrote in place): not yet known
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

export async function readExitRecord(dir: string): Promise<ExitRecord | undefined> {
  const file = join(dir, JOB_FILES.exit);
  const record = await readJson(file, exitFileSchema);
  if (!record) return undefined;
  const { mtime } = statSync(file);
  return { exitCode: record.exitCode, endedAt: mtime.toISOString() };
}

/** Crash-safe replacement (src/fs/atomicFile.ts), so a reader never sees half a file. */
export async function writeTextAtomic(file: string, text: string): Promise<void> {
  await writeFileAtomic(file, Buffer.from(text));
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeTextAtomic(file, `${JSON.stringify(value)}\n`);
}

/** Replaces `file` so a reader sees the old or the whole new content, without the fsyncs
 * of writeTextAtomic: for what means nothing after a machine crash (a pid: the process is
 * gone then), which a host crash cannot lose (it stays in the page cache). Synchronous: the
 * supervisor spawner's process writes the pid file, where nothing else waits on its thread. */
export function writeTextVisibleSync(file: string, text: string): void {
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  writeFileSync(tmp, text, { flag: 'wx', mode: 0o600 });
  try {
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

export async function readPid(dir: string, name: string): Promise<number | undefined> {
  try {
    const pid = Number(readFileSync(join(dir, name), 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** True when `pid` is a live (not zombie) process whose command line names `jobDir`:
 * after a reboot or a long time, the same number may belong to someone else. */
export async function isJobProcess(pid: number, jobDir: string): Promise<boolean> {
  try {
    const [cmdline, stat] = await Promise.all([readFile(`/proc/${pid}/cmdline`, 'utf8'), readFile(`/proc/${pid}/stat`, 'utf8')]);
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X' && cmdline.split('\0').some((arg) => arg.includes(jobDir));
  } catch {
    return false;
  }
}
