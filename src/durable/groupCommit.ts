import { isDiskFull } from '../core/errors';
import type { Logger } from '../observability/logger';
import type { DurableStore, WriteBatch } from './store';

/**
 * Group commit: batches written in one scheduler turn (episodes, client calls) share one
 * transaction, so one fsync serves them all. A batch's promise settles when its
 * transaction has committed (or failed).
 */
export class GroupCommit {
  private pending: { batch: WriteBatch; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private scheduled = false;
  private closed = false;
  /** Since when commits fail for want of space (they are retried until one succeeds). */
  private diskFullSince: number | undefined;

  constructor(
    private readonly store: DurableStore,
    private readonly log?: Logger,
  ) {}

  /** Whether commits are waiting for space on a full disk. */
  get waitingForSpace(): boolean {
    return this.diskFullSince !== undefined;
  }

  /** Whether batches are waiting for their transaction. */
  get busy(): boolean {
    return this.pending.length > 0;
  }

  write(batch: WriteBatch): Promise<void> {
    // After close nothing more is recorded; what was not committed is redone at the next start.
    if (this.closed) return new Promise(() => undefined);
    return new Promise((resolve, reject) => {
      this.pending.push({ batch, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits what is pending now, then records nothing more. */
  close(): void {
    this.flush();
    this.closed = true;
  }

  private flush(): void {
    this.scheduled = false;
    const items = this.pending;
    if (items.length === 0) return;
    this.pending = [];
    try {
      this.store.commit(items.map((i) => i.batch));
    } catch (err) {
      if (isDiskFull(err) && !this.closed) {
        this.retryWhenSpace(items, err);
        return;
      }
      for (const i of items) i.reject(err);
      return;
    }
    if (this.diskFullSince !== undefined) {
      this.log?.info({ waitedMs: Date.now() - this.diskFullSince }, 'durable store writable again');
      this.diskFullSince = undefined;
    }
    for (const i of items) i.resolve();
  }

  /**
   * A commit refused for want of space rolled back whole, and the engine's memory is already
   * ahead of the store, so the same batches (and those queued behind them) are committed
   * again, in order, until the disk has room: an episode, its timers and activity results
   * wait rather than get lost (or take the process down).
   */
  private retryWhenSpace(items: typeof this.pending, err: unknown): void {
    this.pending = [...items, ...this.pending];
    if (this.diskFullSince === undefined) {
      this.diskFullSince = Date.now();
      this.log?.warn({ err: String(err) }, 'the data disk is full: durable commits wait for space');
    }
    this.scheduled = true;
    setTimeout(() => {
      if (!this.closed) this.flush();
    }, 250);
  }
}
