import { isDiskFull } from '../core/errors';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { HTTP_ACTIVITY } from './actions';
import { callHttp } from './durableHttp';
import { event, EventType, fromJsonText, type InboxEvent, type TaskFailedEvent } from './history';
import type { FunctionPort } from './ports';
import type { ActivityItem, DurableStore } from './store';

/**
 * The activity pool: work items (rows in `activities`, leased to this process) run in
 * parallel up to a limit. A completion goes back to its instance's inbox, not to the
 * store: the episode that consumes it records it and deletes the item in one transaction;
 * after a crash, items still in the store run again (at-least-once).
 */
export interface ActivityPoolOptions {
  store: DurableStore;
  functions: FunctionPort;
  maxConcurrent: number;
  /** How long a work item stays leased to this process without renewal. */
  leaseMs: number;
  /** Whether the item's execution still waits for its result. */
  wanted: (item: ActivityItem) => boolean;
  /** Hands a completion (TaskCompleted or TaskFailed) to the item's instance. */
  complete: (item: ActivityItem, ev: InboxEvent) => void;
  /** Deletes the row of an item whose result is not wanted. */
  discard: (id: number) => void;
  /** Registers a run so the engine's `idle()` waits for it. */
  track: (p: Promise<unknown>) => void;
  /** No item runs or waits any more (the last completion was handed over). */
  drained?: () => void;
}

export class ActivityPool {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private queue: ActivityItem[] = [];
  private head = 0;
  private running = 0;
  private stopped = false;
  private leaseTimer: NodeJS.Timeout | undefined;
  private scheduled = false;

  constructor(private readonly o: ActivityPoolOptions) {
    o.store.lease = { owner: this.owner, until: () => Date.now() + o.leaseMs };
  }

  /** Items were dispatched and a coming turn starts them. */
  get pumpScheduled(): boolean {
    return this.scheduled;
  }

  /** Items waiting for a slot. */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /** Claims the store's unowned items and keeps this process's leases renewed. */
  start(): void {
    this.claim();
    this.leaseTimer = setInterval(
      () => {
        try {
          this.o.store.renewLeases(this.owner, Date.now() + this.o.leaseMs);
          this.claim();
        } catch (err) {
          // A full disk only delays the renewal to the next tick (leases outlast several).
          if (!isDiskFull(err)) throw err;
        }
      },
      Math.max(100, Math.floor(this.o.leaseMs / 3)),
    );
    this.leaseTimer.unref();
  }

  /** Starts no more items; those running finish as the host's in-flight invocations. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.leaseTimer);
  }

  /** Hands the leases back (after the last commit). */
  release(): void {
    this.o.store.releaseLeases(this.owner);
  }

  /**
   * Queues items whose rows are written (their commit may still be on its way to the disk)
   * and starts them in the next turn, once that commit has gone to the writer thread: the
   * commit is flushed in a later turn than its batch is written (so that batches written
   * in one turn share it), and activities that finish without I/O (most of them) start one
   * another until none is left, so started now, a fan-out of a thousand would hold the
   * commit back, and the writer idle, until the last of them had run.
   */
  dispatch(items: readonly ActivityItem[]): void {
    if (items.length === 0) return;
    this.queue.push(...items);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  /** Starts the dispatched items now, once the commit that schedules them went to the writer thread. */
  startNow(): void {
    if (this.scheduled) this.pump();
  }

  private claim(): void {
    const local = `${hostname()}:`;
    // An owner on this machine whose process is gone (or an earlier engine in this
    // process) will never finish its items: take them now instead of waiting for the lease.
    const dead = (owner: string): boolean => {
      if (!owner.startsWith(local)) return false;
      const pid = Number(owner.slice(local.length).split(':')[0]);
      if (pid === process.pid) return true;
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    };
    const items = this.o.store.claimActivities(this.owner, Date.now() + this.o.leaseMs, dead);
    if (items.length === 0) return;
    this.queue.push(...items);
    this.pump();
  }

  pump(): void {
    while (this.running < this.o.maxConcurrent && this.head < this.queue.length && !this.stopped) {
      const item = this.queue[this.head++] as ActivityItem;
      if (!this.o.wanted(item)) {
        this.orphan(item);
        continue;
      }
      this.running++;
      this.o.track(this.run(item));
    }
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private async run(item: ActivityItem): Promise<void> {
    try {
      let ev: InboxEvent;
      try {
        // The stored input is JSON text already (absent: no input, which the function sees as null).
        const inputJson = item.input === undefined || item.input === null || item.input === '' ? 'null' : item.input;
        const result =
          item.name === HTTP_ACTIVITY
            ? JSON.stringify((await callHttp(fromJsonText(item.input))) ?? null)
            : await this.o.functions.runActivity(item.name, inputJson, item.instanceId);
        ev = event(EventType.TaskCompleted, new Date(), { TaskScheduledId: item.taskId, Result: result });
      } catch (err) {
        ev = event(EventType.TaskFailed, new Date(), taskFailure(item.taskId, err));
      }
      if (!this.o.wanted(item)) {
        this.orphan(item);
        return;
      }
      this.o.complete(item, ev);
    } finally {
      this.running--;
      this.pump();
      if (this.running === 0 && this.head >= this.queue.length) this.o.drained?.();
    }
  }

  /** An item whose instance ended or moved on: its row goes, its result is not wanted. */
  private orphan(item: ActivityItem): void {
    if (item.id !== undefined) this.o.discard(item.id);
  }
}

/**
 * A failed activity as the orchestrator sees it. `FailureDetails` makes the SDK raise a
 * TaskFailedError whose message is `<type>: <message>` and whose stack is the activity's,
 * so the orchestration's output (built from the message) carries no stack trace.
 */
function taskFailure(taskId: number, err: unknown): Omit<TaskFailedEvent, 'EventType' | 'EventId' | 'IsPlayed' | 'Timestamp'> {
  const e = err instanceof Error ? err : new Error(String(err));
  return {
    TaskScheduledId: taskId,
    Reason: e.message,
    Details: e.stack ?? '',
    FailureDetails: { ErrorType: e.name, ErrorMessage: e.message, StackTrace: e.stack },
  };
}
