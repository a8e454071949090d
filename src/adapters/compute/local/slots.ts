import { LedgerflowError } from '../../../core/errors';

/**
 * A host-wide cap on jobs running at once (LOCAL_MAX_RUNNING_JOBS): a launch waits for a
 * free slot, first come first served, and its job stays Pending meanwhile; a wait can be
 * given up (cancel). Counts the jobs this process started; after a host restart, jobs of
 * the previous process that still run are not counted.
 */
export class RunSlots {
  private running = 0;
  private readonly waiting: { key: string; grant: () => void; refuse: (err: Error) => void }[] = [];

  constructor(readonly max: number) {}

  /** Resolves with a release function once a slot is free. */
  acquire(key: string): Promise<() => void> {
    if (this.running < this.max) return Promise.resolve(this.take());
    return new Promise((grant, refuse) => this.waiting.push({ key, grant: () => grant(this.take()), refuse }));
  }

  /** Gives up the wait of `key`, if it waits; true if it did. */
  abandon(key: string): boolean {
    const i = this.waiting.findIndex((w) => w.key === key);
    if (i < 0) return false;
    this.waiting.splice(i, 1)[0]!.refuse(new LedgerflowError('conflict', 'the job was canceled before it started'));
    return true;
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
