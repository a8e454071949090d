import { once } from 'node:events';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { peer } from '@hyperledger/fabric-protos';
import { setBounded } from '../core/boundedMap';
import { buildBlock, lastConfigIndex } from './blocks';
import type { CommitReply, CommitRequest } from './commitWorker';
import type { BlockRecord, LedgerStore } from './store';
import type { Version } from './simulator';
import {
  inRange,
  newPendingUpdates,
  recordUpdates,
  validateBlock,
  type EndorsedHere,
  type OrderedEnvelope,
  type PendingUpdates,
  type StateView,
  type ValidationPolicy,
} from './validator';

/**
 * Orders submitted transactions into hash-chained blocks and commits them. A block is cut
 * when `maxTx` transactions are pending, when the writer is idle, or `timeoutMs` after the
 * first one arrived while blocks are being written, so under load many transactions share
 * one SQLite transaction (one fsync) and a lone client is not delayed. Validation runs here;
 * the write runs on the commit worker's thread while the next block fills and is validated
 * against committed state plus the blocks still being written. Clients learn a status, and
 * event streams see a block, only once it is durable.
 */

export interface OrdererOptions {
  /** The SQLite file the commit worker writes. */
  file: string;
  maxTx: number;
  timeoutMs: number;
  /** A block that cannot be written for another reason than a full disk stops the orderer:
   * no later block can chain onto it. Waiting clients get an error; a restart resumes from
   * the last durable block. */
  onCommitError: (err: Error, blockNum: number) => void;
  /** A block refused for want of space: it and the blocks built on it are dropped, their
   * clients told, and ordering goes on from the last durable block (the next block retries). */
  onDiskFull?: (err: Error, blockNum: number) => void;
}

export interface TxStatus {
  code: number;
  blockNum: number;
}

const DUPLICATE_TXID = peer.TxValidationCode.DUPLICATE_TXID;

/** Blocks handed to the worker and not yet durable; more would only queue behind the disk. */
const MAX_IN_FLIGHT = 2;
/** How many dropped transaction ids are remembered, so a commit-status request that comes
 * after its block was dropped is answered at once rather than left waiting. */
const MAX_DROPPED = 10_000;
/** How many statuses of recently committed transactions are remembered: a client asks for its
 * transaction's status right after submitting, and most often its block is written by then. */
const MAX_RECENT = 8192;
/** About how many tx ids of the newest committed blocks are remembered (whole blocks, at least
 * the last one), so the duplicate check of a transaction endorsed here since then reads no
 * SQLite (a lease is submitted a few blocks after its endorsement); one endorsed before the
 * oldest remembered block is looked up in the store. */
const RECENT_TX_IDS = 8192;

interface InFlight {
  record: BlockRecord;
  updates: PendingUpdates;
  txIds: Set<string>;
}

/** A config transaction waits for its own block: Fabric orders it alone. */
type Pending = OrderedEnvelope & { config?: true };

interface Waiter {
  resolve: (status: TxStatus) => void;
  reject: (err: Error) => void;
}

export class Orderer {
  readonly #store: LedgerStore;
  readonly #policy: ValidationPolicy;
  readonly #options: OrdererOptions;
  readonly #worker: Worker;
  readonly #state: StateView;
  #pending: Pending[] = [];
  #lastConfig: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #cutScheduled = false;
  #next: number;
  #height: number;
  #previousHash: Buffer;
  readonly #inFlight: InFlight[] = [];
  readonly #waiters = new Map<string, Waiter[]>();
  /** Ids of transactions endorsed here that are queued or being written: their status is
   * not in the store yet, so a commit-status request need not look there. */
  readonly #uncommitted = new Set<string>();
  readonly #blockListeners = new Set<(blockNum: number) => void>();
  #closed = false;
  #failure: Error | undefined;
  /** Bumped when blocks are dropped: the worker's replies for them are then ignored. */
  #generation = 0;
  readonly #dropped = new Map<string, Error>();
  /** Statuses given to the waiters of recently committed transactions, as they were given. */
  readonly #recent = new Map<string, TxStatus>();
  /** The tx ids of the newest committed blocks, oldest first, up to `height` - 1. */
  readonly #recentBlocks: { number: number; txIds: Set<string> }[] = [];
  #recentTxIds = 0;

  private constructor(store: LedgerStore, policy: ValidationPolicy, options: OrdererOptions) {
    this.#store = store;
    this.#policy = policy;
    this.#options = options;
    const last = store.lastBlock();
    this.#next = last === undefined ? 0 : last.number + 1;
    this.#height = this.#next;
    this.#previousHash = last?.headerHash ?? Buffer.alloc(0);
    this.#lastConfig = policy.channel.config === undefined || last === undefined ? undefined : (lastConfigIndex(store.block(last.number)!.bytes) ?? 0);
    this.#worker = new Worker(join(__dirname, 'commitWorker.js'), { workerData: { file: options.file } });
    this.#worker.on('message', (reply: CommitReply) => this.#onCommitted(reply));
    this.#worker.on('error', (err) => this.#fail(err, this.#inFlight[0]?.record.number ?? this.#next));
    this.#state = {
      version: (ns, key) => {
        for (let i = this.#inFlight.length - 1; i >= 0; i--) {
          const updates = this.#inFlight[i]!.updates.versions.get(ns);
          if (updates?.has(key)) return updates.get(key) ?? undefined;
        }
        return store.version(ns, key);
      },
      validationParameter: (ns, key) => {
        for (let i = this.#inFlight.length - 1; i >= 0; i--) {
          const updates = this.#inFlight[i]!.updates.parameters.get(ns);
          if (updates?.has(key)) return updates.get(key) ?? undefined;
        }
        return store.validationParameter(ns, key);
      },
      rangeVersions: (ns, startKey, endKey) => {
        const merged = new Map<string, Version>();
        for (const { key, version } of store.range(ns, startKey, endKey)) merged.set(key, version);
        for (const block of this.#inFlight) {
          for (const [key, version] of block.updates.versions.get(ns) ?? []) {
            if (!inRange(key, startKey, endKey)) continue;
            if (version === null) merged.delete(key);
            else merged.set(key, version);
          }
        }
        // The validator sorts.
        return [...merged].map(([key, version]) => ({ key, version }));
      },
      hasTx: (txId, notBelow) => this.#inFlight.some((b) => b.txIds.has(txId)) || this.#committedTx(txId, notBelow),
    };
  }

  /** `configTx`: a CONFIG transaction to write first, as the genesis block of a new ledger, or
   * as the first config block of a ledger written before the channel had a configuration. */
  static async open(store: LedgerStore, policy: ValidationPolicy, options: OrdererOptions, configTx?: Uint8Array): Promise<Orderer> {
    const orderer = new Orderer(store, policy, options);
    await once(orderer.#worker, 'online');
    if (configTx !== undefined) {
      orderer.#commit([{ bytes: configTx }]);
      await new Promise<void>((resolve) =>
        orderer.onBlock(function first() {
          resolve();
          orderer.#blockListeners.delete(first);
        }),
      );
    }
    return orderer;
  }

  /** Queues a CONFIG transaction (the orderer's, for an accepted config update); it is
   * ordered alone in its block. */
  submitConfig(envelope: Uint8Array): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#closed) throw new Error('the orderer is stopped');
    this.#pending.push({ bytes: envelope, config: true });
    if (!this.#cutScheduled) {
      this.#cutScheduled = true;
      setImmediate(() => {
        this.#cutScheduled = false;
        this.#cut();
      });
    }
  }

  /** Committed height: blocks 0..height-1 are durable and visible. */
  get height(): number {
    return this.#height;
  }

  /** Queues a signed envelope whose creator signature the gateway has checked (as the
   * orderer's signature filter does at broadcast); `endorsedHere` when the gateway recognised
   * it as one this peer endorsed. */
  submit(envelope: Uint8Array, endorsedHere?: EndorsedHere): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#closed) throw new Error('the orderer is stopped');
    if (endorsedHere === undefined) this.#pending.push({ bytes: envelope, creatorVerified: true });
    else {
      this.#pending.push({ bytes: envelope, endorsedHere, creatorVerified: true });
      this.#uncommitted.add(endorsedHere.tx.txId);
    }
    if (this.#pending.length >= this.#options.maxTx || this.#inFlight.length === 0) {
      // A full block, or an idle writer: cut now (after this tick's other submissions), so a
      // lone client never waits for the timer; under load blocks fill while others are written.
      if (!this.#cutScheduled) {
        this.#cutScheduled = true;
        setImmediate(() => {
          this.#cutScheduled = false;
          this.#cut();
        });
      }
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#cut();
      }, this.#options.timeoutMs);
    }
  }

  /** Resolves with the transaction's validation code once its block is durable. */
  waitForTx(txId: string, signal?: AbortSignal): Promise<TxStatus> {
    const recent = this.#recent.get(txId);
    if (recent !== undefined) return Promise.resolve(recent);
    const committed = this.#uncommitted.has(txId) ? undefined : this.#store.txStatus(txId);
    if (committed !== undefined) return Promise.resolve({ code: committed.code, blockNum: committed.blockNum });
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const dropped = this.#dropped.get(txId);
    if (dropped !== undefined) return Promise.reject(dropped);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (status) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(status);
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      const onAbort = () => {
        const list = this.#waiters.get(txId)?.filter((w) => w !== waiter);
        if (list === undefined || list.length === 0) this.#waiters.delete(txId);
        else this.#waiters.set(txId, list);
        reject(new Error('cancelled'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const list = this.#waiters.get(txId);
      if (list === undefined) this.#waiters.set(txId, [waiter]);
      else list.push(waiter);
    });
  }

  onBlock(listener: (blockNum: number) => void): () => void {
    this.#blockListeners.add(listener);
    return () => this.#blockListeners.delete(listener);
  }

  /** Commits what is pending, waits until it is durable, and stops the worker. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#failure === undefined && (this.#pending.length > 0 || this.#inFlight.length > 0)) {
      this.#cut();
      await new Promise<void>((resolve) => {
        const done = (): void => {
          off();
          resolve();
        };
        const off = this.onBlock(done);
        if (this.#failure !== undefined || this.#inFlight.length === 0) done();
      });
    }
    await this.#worker.terminate();
  }

  #cut(): void {
    if (this.#failure !== undefined || this.#pending.length === 0 || this.#inFlight.length >= MAX_IN_FLIGHT) return;
    const config = this.#pending.findIndex((e) => e.config === true);
    const take = config === 0 ? 1 : Math.min(this.#options.maxTx, config < 0 ? this.#pending.length : config);
    this.#commit(this.#pending.splice(0, take));
    if (config >= 0 && this.#pending.length > 0 && !this.#cutScheduled) {
      this.#cutScheduled = true;
      setImmediate(() => {
        this.#cutScheduled = false;
        this.#cut();
      });
    }
  }

  #commit(envelopes: Pending[]): void {
    const number = this.#next;
    const configBefore = this.#policy.channel.config;
    const { codes, txs } = validateBlock(envelopes, number, this.#state, this.#policy);
    if (this.#policy.channel.config !== configBefore) this.#lastConfig = number;
    const { block, headerHash } = buildBlock(
      number,
      this.#previousHash,
      envelopes.map((e) => e.bytes),
      codes,
      this.#lastConfig,
    );
    const record: BlockRecord = { number, headerHash, bytes: block.serializeBinary(), txs };
    const updates = newPendingUpdates();
    txs.forEach((tx, txNum) => {
      if (tx.code === 0) recordUpdates(updates, tx, number, txNum);
    });
    this.#inFlight.push({ record, updates, txIds: new Set(txs.map((t) => t.txId).filter((id) => id !== '')) });
    this.#next = number + 1;
    this.#previousHash = headerHash;
    this.#store.writing(number);
    this.#worker.postMessage({ record, generation: this.#generation } satisfies CommitRequest);
  }

  /** Whether a committed block holds `txId`; from memory when every block from `notBelow` up
   * is among the recent ones. */
  #committedTx(txId: string, notBelow: number | undefined): boolean {
    const oldest = this.#recentBlocks[0]?.number ?? this.#height;
    if (notBelow === undefined || notBelow < oldest) return this.#store.hasTx(txId);
    for (let i = this.#recentBlocks.length - 1; i >= 0 && this.#recentBlocks[i]!.number >= notBelow; i--) {
      if (this.#recentBlocks[i]!.txIds.has(txId)) return true;
    }
    return false;
  }

  #onCommitted(reply: CommitReply): void {
    if (reply.generation !== this.#generation) return; // a block already dropped
    const block = this.#inFlight.shift();
    if (block === undefined || block.record.number !== reply.number) {
      this.#fail(new Error(`commit worker answered for block ${reply.number} out of order`), reply.number);
      return;
    }
    if (reply.error !== undefined && reply.diskFull === true) {
      this.#drop(block, new Error(`block ${reply.number} could not be written: ${reply.error}`));
      return;
    }
    if (reply.error !== undefined) {
      this.#fail(new Error(`block ${reply.number} could not be written: ${reply.error}`), reply.number);
      return;
    }
    this.#height = reply.number + 1;
    this.#store.committed(block.record);
    this.#recentBlocks.push({ number: reply.number, txIds: block.txIds });
    this.#recentTxIds += block.txIds.size;
    while (this.#recentTxIds > RECENT_TX_IDS && this.#recentBlocks.length > 1) this.#recentTxIds -= this.#recentBlocks.shift()!.txIds.size;
    for (const tx of block.record.txs) {
      if (tx.txId === '') continue;
      this.#uncommitted.delete(tx.txId);
      // A duplicate's waiters learn the status of the first transaction with that id (the
      // index keeps the first); any other transaction's status is its own.
      const first = tx.code === DUPLICATE_TXID ? this.#store.txStatus(tx.txId) : undefined;
      const status = first === undefined ? { code: tx.code, blockNum: reply.number } : { code: first.code, blockNum: first.blockNum };
      if (!this.#recent.has(tx.txId)) setBounded(this.#recent, tx.txId, status, MAX_RECENT);
      const waiters = this.#waiters.get(tx.txId);
      if (waiters === undefined) continue;
      this.#waiters.delete(tx.txId);
      for (const w of waiters) w.resolve(status);
    }
    for (const listener of this.#blockListeners) listener(reply.number);
    if (this.#pending.length >= this.#options.maxTx || (this.#pending.length > 0 && this.#timer === undefined)) this.#cut();
  }

  /** Drops `failed` and every block built on it; the chain goes on from the last durable
   * block. Their transactions were never committed, so their clients may submit again. */
  #drop(failed: InFlight, err: Error): void {
    this.#generation++;
    const blocks = [failed, ...this.#inFlight.splice(0)];
    this.#next = failed.record.number;
    this.#previousHash = this.#store.lastBlock()?.headerHash ?? Buffer.alloc(0);
    for (const block of blocks) {
      for (const tx of block.record.txs) {
        if (tx.txId === '') continue;
        this.#uncommitted.delete(tx.txId);
        this.#dropped.set(tx.txId, err);
        if (this.#dropped.size > MAX_DROPPED) this.#dropped.delete(this.#dropped.keys().next().value as string);
        const waiters = this.#waiters.get(tx.txId);
        this.#waiters.delete(tx.txId);
        for (const w of waiters ?? []) w.reject(err);
      }
    }
    this.#options.onDiskFull?.(err, failed.record.number);
    // Transactions that arrived meanwhile go into the next block (which retries the write).
    if (this.#pending.length > 0 && !this.#cutScheduled) {
      this.#cutScheduled = true;
      setImmediate(() => {
        this.#cutScheduled = false;
        this.#cut();
      });
    }
  }

  #fail(err: Error, blockNum: number): void {
    if (this.#failure !== undefined) return;
    this.#failure = err;
    this.#options.onCommitError(err, blockNum);
    clearTimeout(this.#timer);
    for (const waiters of this.#waiters.values()) for (const w of waiters) w.reject(err);
    this.#waiters.clear();
    for (const listener of this.#blockListeners) listener(this.#height - 1);
  }
}
