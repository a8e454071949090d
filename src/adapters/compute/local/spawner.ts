import { fork, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { builtProgram } from './builtProgram';
import { removeGroups, type CgroupPlan } from './cgroups';
import { spawnerReplySchema, type SpawnerReply, type SpawnRequest } from './spawnerProtocol';

/** A started job supervisor: its pid, and when it exited (and whether its groups are gone). */
export interface StartedSupervisor {
  pid: number;
  exited: Promise<{ groupsRemoved: boolean }>;
}

export interface SpawnOptions {
  cwd: string;
  env: Record<string, string>;
  /** Where to write its pid (atomically) before the start resolves. */
  pidFile?: string;
  /** The job's cgroups: made before it starts, removed once it exited (before `exited`). */
  cgroups?: CgroupPlan;
}

export interface SupervisorSpawner {
  /** Starts `file args` detached (own session), nothing attached; resolves once it runs. */
  start(file: string, args: readonly string[], options: SpawnOptions): Promise<StartedSupervisor>;
}

const HELPER_SCRIPT = join(__dirname, 'spawnerProcess.js');
/** The C helper, where `npm run build` made it (scripts/build-native.js). */
const NATIVE_HELPER = join(__dirname, 'ledgerflow-spawner');
/** How often a supervisor is looked for once the helper that would report its exit is gone. */
const ORPHAN_POLL_MS = 500;

/**
 * Job supervisors are started by a small helper process rather than by the host: node forks
 * the whole process to spawn, copying the page tables of a host of a few hundred MiB and
 * blocking its main thread until the child has exec'd (1.5 to 3 ms of CPU and 4 to 7 ms of
 * main thread a job, measured). The helper is ledgerflow-spawner.c where it was built (a fork
 * there costs ~0.05 ms), else spawnerProcess.ts, a node process (0.5-1.5 ms a job, most of it
 * its own fork). It is started on first use and neither it nor its channel keeps the host
 * alive; should it die, the next start makes a new one, and the supervisors it started are
 * watched by pid until they are gone.
 */
export function supervisorSpawner(kind: SpawnerKind = nativeHelper() === undefined ? 'node' : 'native'): SupervisorSpawner {
  // One per process and kind, whatever the number of backends (tests make many).
  return (shared[kind] ??= new HelperSpawner(kind));
}
const shared: Partial<Record<SpawnerKind, SupervisorSpawner>> = {};

/** Which helper: the C one (where built) or the node one. */
export type SpawnerKind = 'native' | 'node';

/** The C helper, if it was built here. */
export const nativeHelper = builtProgram(NATIVE_HELPER);

/** A helper process and how to talk to it. */
interface Helper {
  readonly process: ChildProcess;
  send(request: SpawnRequest): void;
  /** Whether its channel keeps this process alive (while starts are unanswered). */
  ref(on: boolean): void;
}

/** spawnerProcess.js over node's IPC channel. */
function nodeHelper(onReply: (message: unknown) => void): Helper {
  const child = fork(HELPER_SCRIPT, [], {
    execArgv: [],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
    serialization: 'json',
  });
  child.channel?.unref();
  child.on('message', onReply);
  return {
    process: child,
    send: (request) => child.send(request),
    ref: (on) => (on ? child.channel?.ref() : child.channel?.unref()),
  };
}

/** ledgerflow-spawner over its stdin and stdout (the format is in ledgerflow-spawner.c). */
function cHelper(file: string, onReply: (message: unknown) => void): Helper {
  const child = spawn(file, [], { stdio: ['pipe', 'pipe', 'inherit'], env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } });
  const { stdin, stdout } = child as ChildProcess & {
    stdin: NodeJS.WritableStream & { unref(): void };
    stdout: NodeJS.ReadableStream & { ref(): void; unref(): void };
  };
  stdin.on('error', () => undefined); // a helper that died: its exit says so
  stdin.unref();
  stdout.unref();
  createInterface({ input: stdout }).on('line', (line) => {
    const reply = replyOf(line);
    if (reply !== undefined) onReply(reply);
  });
  return {
    process: child,
    send: (request) => stdin.write(encodeRequest(request)),
    ref: (on) => (on ? stdout.ref() : stdout.unref()),
  };
}

/** A request as ledgerflow-spawner reads it: its length, then NUL-terminated fields. */
export function encodeRequest(request: SpawnRequest): Buffer {
  const counted = (items: readonly string[], per = 1) => [String(items.length / per), ...items];
  const fields = [
    String(request.id),
    request.file,
    request.cwd,
    request.pidFile ?? '',
    ...counted(request.args),
    ...counted(Object.entries(request.env).map(([k, v]) => `${k}=${v}`)),
    ...counted(request.cgroups?.dirs ?? []),
    ...counted(request.cgroups?.writes.flatMap((w) => [w.file, w.value]) ?? [], 2),
  ];
  // No field may hold the separator (nor could an exec argument, path or variable).
  if (fields.some((f) => f.includes('\0'))) throw new Error('a NUL byte in a supervisor request');
  const body = Buffer.from(fields.map((f) => `${f}\0`).join(''));
  return Buffer.concat([Buffer.from(`${body.length}\n`), body]);
}

/** One of ledgerflow-spawner's reply lines as the node helper's message. */
export function replyOf(line: string): SpawnerReply | undefined {
  const match = /^(pid|error|exited) (-?[0-9]+) ?(.*)$/.exec(line);
  if (match === null) return undefined;
  const id = Number(match[2]);
  const rest = match[3] ?? '';
  if (match[1] === 'pid') return { id, pid: Number(rest) };
  if (match[1] === 'error') return { id, error: rest };
  return { id, exited: true, ...(rest === '1' && { groupsLeft: true as const }) };
}

interface Pending {
  started?: (pid: number) => void;
  failed?: (err: Error) => void;
  pid?: number;
  /** The groups to remove should the helper be gone before it removed them. */
  cgroups?: string[];
  exited: (groupsRemoved: boolean) => void;
}

class HelperSpawner implements SupervisorSpawner {
  private helper: Helper | undefined;
  private nextId = 1;
  /** Requests not yet answered with a pid or an error: while there are any, the channel is ref'd. */
  private unanswered = 0;
  private readonly requests = new Map<number, Pending>();

  constructor(private readonly kind: SpawnerKind) {}

  start(file: string, args: readonly string[], options: SpawnOptions): Promise<StartedSupervisor> {
    const helper = this.running();
    const id = this.nextId++;
    return new Promise<StartedSupervisor>((resolve, reject) => {
      let exited!: (groupsRemoved: boolean) => void;
      const exit = new Promise<{ groupsRemoved: boolean }>((ok) => (exited = (groupsRemoved) => ok({ groupsRemoved })));
      this.requests.set(id, {
        started: (pid) => resolve({ pid, exited: exit }),
        failed: reject,
        exited,
        ...(options.cgroups !== undefined && { cgroups: options.cgroups.dirs }),
      });
      if (this.unanswered++ === 0) helper.ref(true);
      const request: SpawnRequest = { id, file, args: [...args], ...options };
      try {
        helper.send(request);
      } catch (err) {
        this.answered(this.requests.get(id)!);
        this.requests.delete(id);
        reject(err as Error);
      }
    });
  }

  private running(): Helper {
    if (this.helper !== undefined) return this.helper;
    const onReply = (message: unknown) => this.onReply(message);
    const file = nativeHelper();
    const helper = this.kind === 'native' && file !== undefined ? cHelper(file, onReply) : nodeHelper(onReply);
    helper.process.unref();
    helper.process.once('exit', () => this.onHelperGone(helper));
    helper.process.once('error', () => this.onHelperGone(helper));
    this.helper = helper;
    return helper;
  }

  private answered(request: Pending): void {
    delete request.started;
    delete request.failed;
    if (--this.unanswered === 0) this.helper?.ref(false);
  }

  private onReply(message: unknown): void {
    const reply = spawnerReplySchema.safeParse(message);
    if (!reply.success) return;
    const request = this.requests.get(reply.data.id);
    if (request === undefined) return;
    if ('pid' in reply.data) {
      request.pid = reply.data.pid;
      request.started?.(reply.data.pid);
      this.answered(request);
    } else if ('error' in reply.data) {
      request.failed?.(new Error(`the job supervisor could not be started: ${reply.data.error}`));
      this.answered(request);
      this.requests.delete(reply.data.id);
    } else {
      request.exited(reply.data.groupsLeft !== true);
      this.requests.delete(reply.data.id);
    }
  }

  private onHelperGone(helper: Helper): void {
    if (this.helper !== helper) return;
    this.helper = undefined;
    for (const [id, request] of this.requests) {
      this.requests.delete(id);
      const groups = request.cgroups ?? [];
      if (request.pid === undefined) {
        void removeGroups(groups);
        request.failed?.(new Error('the job supervisor spawner exited'));
        this.answered(request);
      } else {
        watchUntilGone(request.pid, () => void removeGroups(groups).then((gone) => request.exited(gone)));
      }
    }
  }
}

/** Calls `gone` once no process `pid` is left (its new parent, init, reaps it). */
function watchUntilGone(pid: number, gone: () => void): void {
  const timer = setInterval(() => {
    try {
      process.kill(pid, 0);
    } catch {
      clearInterval(timer);
      gone();
    }
  }, ORPHAN_POLL_MS);
  timer.unref();
}
