import type { InstanceRow, WriteBatch } from './store';

/**
 * The instance rows the engine's own transactions committed, newest kept, so a status read
 * (one per orchestration a client polls) need not read the store: with the writer thread
 * committing all the time, the reading connection finds its page cache stale at nearly
 * every read and goes back to the file for each page of the lookup.
 *
 * Only committed rows are given out, never one an episode has written but not yet
 * committed (a status must not show what a crash could take back). The process is the
 * store's only writer (the data-dir lock), and every instance row goes through a batch, so
 * what a batch committed is what the store holds until the next batch for that instance
 * commits. While a batch for an instance is on its way, its entry is gone and reads go to
 * the store: an earlier transaction's reply must not put back a row older than one the
 * store already gave out. Misses are never filled from the store, for the same reason.
 */
export class CommittedRows {
  private readonly rows = new Map<string, InstanceRow>();
  /** Batches written and not yet settled, by instance id. */
  private readonly unsettled = new Map<string, number>();

  constructor(private readonly max = 10_000) {}

  get(instanceId: string): InstanceRow | undefined {
    return this.rows.get(instanceId);
  }

  /** Before `batch` goes to the writer; the answer is called once it committed or failed. */
  writing(batch: WriteBatch): ((committed: boolean) => void) | undefined {
    const puts = batch.putInstances;
    const deletes = batch.deleteInstances;
    if (puts === undefined && deletes === undefined) return undefined;
    const ids = new Set<string>(deletes);
    for (const r of puts ?? []) ids.add(r.instanceId);
    for (const id of ids) {
      this.rows.delete(id);
      this.unsettled.set(id, (this.unsettled.get(id) ?? 0) + 1);
    }
    return (committed) => {
      for (const id of ids) {
        const n = (this.unsettled.get(id) ?? 1) - 1;
        if (n > 0) {
          this.unsettled.set(id, n);
          continue;
        }
        this.unsettled.delete(id);
        // The store applies a batch's deletes before its rows (store.ts).
        const row = committed ? puts?.findLast((r) => r.instanceId === id) : undefined;
        if (row !== undefined) this.remember(row);
      }
    };
  }

  private remember(row: InstanceRow): void {
    // As the store gives it back: the failure through JSON (keys of undefined dropped).
    if (row.failure !== undefined) row = { ...row, failure: JSON.parse(JSON.stringify(row.failure)) as InstanceRow['failure'] };
    this.rows.set(row.instanceId, row);
    if (this.rows.size > this.max) this.rows.delete(this.rows.keys().next().value as string);
  }
}
