import { join } from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { Logger } from '../observability/logger';
import type { WriterData, WriterReply, WriterRequest } from './commitWorker';
import type { DurableStore, WriteBatch } from './store';

/** How long shutdown waits for the writer to finish what it was given. */
const CLOSE_WAIT_MS = 30_000;

interface Waiting {
  batch: WriteBatch;
  resolve: () => void;
  reject: (e: unknown) => void;
  settled: ((committed: boolean) => void) | undefined;
}

/**
 * Group commit on a writer thread (commitWorker.ts). A batch's row ids are handed out when
 * it is written; its promise settles when its transaction has committed (or failed). One
 * transaction is in flight at a time: batches written meanwhile (in any number of
 * scheduler turns) wait and share the next one, so one fsync serves them all, and
 * transactions commit in the order their batches were written. The fsync never blocks the
 * scheduler's thread, which goes on with other episodes meanwhile.
 */
export class GroupCommit {
  private pending: Waiting[] = [];
  private inFlight: Waiting[] | undefined;
  /** A flush is due (next turn, or the retry after a full disk). */
  private scheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Set when the writer thread died: nothing can be committed any more. */
  private failure: Error | undefined;
  /** Since when commits fail for want of space (they are retried until one succeeds). */
  private diskFullSince: number | undefined;
  private seq = 0;
  /** The writer thread, started with the first transaction (not on the host's startup path). */
  private writer: { worker: Worker; replies: MessagePort; sent: Int32Array } | undefined;
  /** Transactions committed, and the writer's wall time in them (SQLite work and fsync). */
  readonly stats = { transactions: 0, ms: 0 };

  constructor(
    private readonly store: DurableStore,
    private readonly log?: Logger,
  ) {}

  /** Whether commits are waiting for space on a full disk. */
  get waitingForSpace(): boolean {
    return this.diskFullSince !== undefined;
  }

  /** Whether batches are waiting for their transaction or in it. */
  get busy(): boolean {
    return this.pending.length > 0 || this.inFlight !== undefined;
  }

  /** `settled` learns, before the promise settles, whether the batch committed. */
  write(batch: WriteBatch, settled?: (committed: boolean) => void): Promise<void> {
    // After close nothing more is recorded; what was not committed is redone at the next start.
    if (this.closed) return new Promise(() => undefined);
    if (this.failure !== undefined) {
      settled?.(false);
      return Promise.reject(this.failure);
    }
    this.store.assignIds(batch);
    return new Promise((resolve, reject) => {
      this.pending.push({ batch, resolve, reject, settled });
      if (!this.scheduled && this.inFlight === undefined) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Sends what is pending to the writer now rather than in the next turn (when none is in flight). */
  flushNow(): void {
    // The writer may have answered the transaction in flight already, its reply still queued
    // behind this turn (a fan-out's activities ran meanwhile): settle it now rather than send
    // this commit only after the next poll phase.
    if (this.inFlight !== undefined && this.writer !== undefined) {
      const got = receiveMessageOnPort(this.writer.replies);
      if (got !== undefined) this.onReply(got.message as WriterReply);
    }
    // A full disk's retries keep their own pace.
    if (this.diskFullSince === undefined) this.flush();
  }

  /**
   * Commits what is pending now (after the transaction in flight), then records nothing
   * more and closes the writer. Synchronous: shutdown's last step, before the leases are
   * handed back and the store closes.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    if (this.failure !== undefined) return;
    const deadline = Date.now() + CLOSE_WAIT_MS;
    if (this.inFlight !== undefined && !this.settleNextReply(deadline)) return;
    if (this.pending.length > 0) {
      this.post();
      if (!this.settleNextReply(deadline)) return;
    }
    if (this.writer === undefined) return;
    this.writer.worker.postMessage({ kind: 'close' } satisfies WriterRequest);
    this.waitForReply(deadline);
  }

  private flush(): void {
    this.scheduled = false;
    if (this.closed || this.failure !== undefined || this.inFlight !== undefined || this.pending.length === 0) return;
    this.post();
  }

  private post(): void {
    const items = this.pending;
    this.pending = [];
    this.inFlight = items;
    const { worker, replies } = this.startWriter();
    replies.ref();
    const lease = { owner: this.store.lease.owner, until: this.store.lease.until() };
    worker.postMessage({ kind: 'commit', seq: ++this.seq, batches: items.map((i) => i.batch), lease } satisfies WriterRequest);
  }

  private startWriter(): NonNullable<GroupCommit['writer']> {
    if (this.writer !== undefined) return this.writer;
    const channel = new MessageChannel();
    const signal = new SharedArrayBuffer(4);
    const data: WriterData = { file: this.store.file, replies: channel.port2, signal };
    const worker = new Worker(join(__dirname, 'commitWorker.js'), { workerData: data, transferList: [channel.port2] });
    // Only a transaction in flight keeps the process alive (the reply port is ref'd then).
    worker.unref();
    channel.port1.unref();
    channel.port1.on('message', (r: WriterReply) => this.onReply(r));
    worker.on('error', (err) => this.writerGone(err));
    worker.on('exit', (code) => this.writerGone(new Error(`the durable store's writer thread exited (code ${code})`)));
    this.writer = { worker, replies: channel.port1, sent: new Int32Array(signal) };
    return this.writer;
  }

  private onReply(r: WriterReply): void {
    const items = this.inFlight;
    if (r.kind === 'closed' || items === undefined) return;
    this.inFlight = undefined;
    this.writer?.replies.unref();
    if (r.kind === 'committed') {
      this.stats.transactions++;
      this.stats.ms += r.ms;
      if (this.diskFullSince !== undefined) {
        this.log?.info({ waitedMs: Date.now() - this.diskFullSince }, 'durable store writable again');
        this.diskFullSince = undefined;
      }
      for (const i of items) {
        i.settled?.(true);
        i.resolve();
      }
    } else {
      const err = Object.assign(new Error(r.message), { code: r.code });
      if (r.diskFull) {
        this.retryWhenSpace(items, err);
        return;
      }
      for (const i of items) {
        i.settled?.(false);
        i.reject(err);
      }
    }
    if (this.pending.length > 0 && !this.scheduled && !this.closed) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /**
   * A commit refused for want of space rolled back whole, and the engine's memory is already
   * ahead of the store, so the same batches (and those queued behind them) are committed
   * again, in order, until the disk has room: an episode, its timers and activity results
   * wait rather than get lost (or take the process down).
   */
  private retryWhenSpace(items: Waiting[], err: unknown): void {
    this.pending = [...items, ...this.pending];
    if (this.closed) return;
    if (this.diskFullSince === undefined) {
      this.diskFullSince = Date.now();
      this.log?.warn({ err: String(err) }, 'the data disk is full: durable commits wait for space');
    }
    this.scheduled = true;
    this.retryTimer = setTimeout(() => this.flush(), 250);
  }

  private writerGone(err: Error): void {
    if (this.closed || this.failure !== undefined) return;
    this.failure = err;
    const items = [...(this.inFlight ?? []), ...this.pending];
    this.inFlight = undefined;
    this.pending = [];
    this.writer?.replies.unref();
    for (const i of items) i.reject(err);
  }

  /**
   * Shutdown only: sleeps until the writer answers the transaction in flight, and settles
   * it. False when nothing more may be committed after it (no answer in time, or a full
   * disk: later batches must not commit before it).
   */
  private settleNextReply(deadline: number): boolean {
    const r = this.waitForReply(deadline);
    if (r === undefined) {
      this.log?.warn('the durable store writer did not answer in time at shutdown: what it had is redone at the next start');
      return false;
    }
    this.onReply(r);
    return !(r.kind === 'failed' && r.diskFull);
  }

  private waitForReply(deadline: number): WriterReply | undefined {
    const { replies, sent } = this.startWriter();
    for (;;) {
      const seen = Atomics.load(sent, 0);
      const got = receiveMessageOnPort(replies);
      if (got !== undefined) return got.message as WriterReply;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      Atomics.wait(sent, 0, seen, left);
    }
  }
}
