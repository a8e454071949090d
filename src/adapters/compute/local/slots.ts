import { LedgerflowError } from '../../../core/errors';

/**
 * A host-wide cap on jobs running at once (LOCAL_MAX_RUNNING_JOBS): a launch waits for a
 * free slot, and its job stays Pending meanwhile; a wait can be given up (cancel). A free
 * slot goes to the waiting job of the oldest run (the run this process saw first), first
 * come first served within a run: a run that has started finishes before new runs take its
 * slots, so the step from a job's inputs ending to its start is a short wait for the next
 * free slot rather than a wait behind every run submitted since (40 runs submitted at once
 * waited ~1 s a step, first come first served). Runs are not starved: each becomes the
 * oldest in turn, and a run gets slots whenever older runs have no job waiting.
 * Counts the jobs this process started; after a host restart, jobs of the previous process
 * that still run are not counted, and the order starts afresh.
 */
export class RunSlots {
  private running = 0;
  private readonly waiting: { key: string; rank: number; grant: () => void; refuse: (err: Error) => void }[] = [];
  /** The order in which runs were first seen: their rank. */
  private readonly runs = new Map<string, number>();
  private nextRank = 0;

  constructor(readonly max: number) {}

  /** Resolves with a release function once a slot is free for `key`, a job of run `run`. */
  acquire(key: string, run: string): Promise<() => void> {
    let rank = this.runs.get(run);
    if (rank === undefined) this.runs.set(run, (rank = this.nextRank++));
    if (this.running < this.max) return Promise.resolve(this.take());
    return new Promise((grant, refuse) => {
      // After every wait of the same or an older run: ranks only grow, so this is mostly an append.
      let at = this.waiting.length;
      while (at > 0 && this.waiting[at - 1]!.rank > rank) at--;
      this.waiting.splice(at, 0, { key, rank, grant: () => grant(this.take()), refuse });
    });
  }

  /** Gives up the wait of `key`, if it waits; true if it did. */
  abandon(key: string): boolean {
    const i = this.waiting.findIndex((w) => w.key === key);
    if (i < 0) return false;
    this.waiting.splice(i, 1)[0]!.refuse(new LedgerflowError('conflict', 'the job was canceled before it started'));
    return true;
  }

  /** Forgets a run that has ended (its rank); a job of it launched later counts as a new run. */
  forget(run: string): void {
    this.runs.delete(run);
  }

  private take(): () => void {
    this.running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      this.waiting.shift()?.grant();
    };
  }
}
