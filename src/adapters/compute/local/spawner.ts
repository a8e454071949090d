import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { removeGroups, type CgroupPlan } from './cgroups';
import { spawnerReplySchema, type SpawnRequest } from './spawnerProtocol';

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
/** How often a supervisor is looked for once the helper that would report its exit is gone. */
const ORPHAN_POLL_MS = 500;

/**
 * Job supervisors are started by a small helper process (spawnerProcess.ts) rather than by
 * the host: node forks the whole process to spawn, copying the page tables of a host of a
 * few hundred MiB and blocking its main thread until the child has exec'd (1.5 to 3 ms of
 * CPU and 4 to 7 ms of main thread a job, measured), against half a millisecond from the
 * helper. The helper is started on first use and neither it nor its channel keeps the host
 * alive; should it die, the next start makes a new one, and the supervisors it started are
 * watched by pid until they are gone.
 */
export function supervisorSpawner(): SupervisorSpawner {
  // One per process, whatever the number of backends (tests make many): a helper is a node
  // process of its own, ~40 MiB.
  return (shared ??= new HelperSpawner());
}
let shared: SupervisorSpawner | undefined;

interface Pending {
  started?: (pid: number) => void;
  failed?: (err: Error) => void;
  pid?: number;
  /** The groups to remove should the helper be gone before it removed them. */
  cgroups?: string[];
  exited: (groupsRemoved: boolean) => void;
}

class HelperSpawner implements SupervisorSpawner {
  private helper: ChildProcess | undefined;
  private nextId = 1;
  /** Requests not yet answered with a pid or an error: while there are any, the channel is ref'd. */
  private unanswered = 0;
  private readonly requests = new Map<number, Pending>();

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
      if (this.unanswered++ === 0) helper.channel?.ref();
      const request: SpawnRequest = { id, file, args: [...args], ...options };
      helper.send(request);
    });
  }

  private running(): ChildProcess {
    if (this.helper !== undefined) return this.helper;
    const helper = fork(HELPER_SCRIPT, [], {
      execArgv: [],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
      serialization: 'json',
    });
    helper.unref();
    helper.channel?.unref();
    helper.on('message', (message: unknown) => this.onReply(message));
    helper.once('exit', () => this.onHelperGone(helper));
    helper.once('error', () => this.onHelperGone(helper));
    this.helper = helper;
    return helper;
  }

  private answered(request: Pending): void {
    delete request.started;
    delete request.failed;
    if (--this.unanswered === 0) this.helper?.channel?.unref();
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

  private onHelperGone(helper: ChildProcess): void {
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
