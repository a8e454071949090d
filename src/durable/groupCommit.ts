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

  constructor(private readonly store: DurableStore) {}

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
      for (const i of items) i.reject(err);
      return;
    }
    for (const i of items) i.resolve();
  }
}
