import { buildBlock } from './blocks';
import type { LedgerStore } from './store';
import { validateBlock, type EndorsementPolicy, type StateView } from './validator';

/**
 * Orders submitted transactions into hash-chained blocks and commits them. A block is cut
 * when `maxTx` transactions are pending or `timeoutMs` after the first one arrived, so under
 * load many transactions share one SQLite transaction (one fsync). Validation and commit run
 * synchronously in one step, so no simulation or event read sees a half-written block.
 */

export interface OrdererOptions {
  maxTx: number;
  timeoutMs: number;
  /** A block that cannot be written (disk full, say) is dropped whole: its transactions
   * never commit and their clients' commit-status waits time out, as with a lost orderer. */
  onCommitError: (err: unknown, blockNum: number, transactions: number) => void;
}

export interface TxStatus {
  code: number;
  blockNum: number;
}

export class Orderer {
  readonly #store: LedgerStore;
  readonly #policy: EndorsementPolicy;
  readonly #options: OrdererOptions;
  readonly #state: StateView;
  #pending: Uint8Array[] = [];
  #timer: NodeJS.Timeout | undefined;
  #next: number;
  #previousHash: Buffer;
  readonly #waiters = new Map<string, ((status: TxStatus) => void)[]>();
  readonly #blockListeners = new Set<(blockNum: number) => void>();
  #closed = false;

  constructor(store: LedgerStore, policy: EndorsementPolicy, options: OrdererOptions) {
    this.#store = store;
    this.#policy = policy;
    this.#options = options;
    this.#state = {
      version: (ns, key) => store.get(ns, key)?.version,
      rangeVersions: (ns, startKey, endKey) => store.range(ns, startKey, endKey),
      hasTx: (txId) => store.hasTx(txId),
    };
    const last = store.lastBlock();
    if (last === undefined) {
      // Genesis: an empty block 0, so transactions start at block 1 as on a Fabric channel.
      const { block, headerHash } = buildBlock(0, new Uint8Array(0), [], []);
      store.commitBlock({ number: 0, headerHash, bytes: block.serializeBinary(), txs: [] });
      this.#next = 1;
      this.#previousHash = headerHash;
    } else {
      this.#next = last.number + 1;
      this.#previousHash = last.headerHash;
    }
  }

  /** The number the next block will have (= chain height). */
  get height(): number {
    return this.#next;
  }

  submit(envelope: Uint8Array): void {
    if (this.#closed) throw new Error('the orderer is stopped');
    this.#pending.push(envelope);
    if (this.#pending.length >= this.#options.maxTx) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      setImmediate(() => this.#cutSafely());
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#cutSafely();
      }, this.#options.timeoutMs);
    }
  }

  /** Commits whatever is pending as one block. */
  cutBlock(): void {
    if (this.#pending.length === 0 || !this.#store.db.open) return;
    const envelopes = this.#pending.splice(0, this.#options.maxTx);
    const number = this.#next;
    const { codes, txs } = validateBlock(envelopes, number, this.#state, this.#policy);
    const { block, headerHash } = buildBlock(number, this.#previousHash, envelopes, codes);
    this.#store.commitBlock({ number, headerHash, bytes: block.serializeBinary(), txs });
    this.#next = number + 1;
    this.#previousHash = headerHash;
    for (const tx of txs) {
      const waiters = this.#waiters.get(tx.txId);
      if (waiters === undefined) continue;
      this.#waiters.delete(tx.txId);
      // A duplicate's waiters learn the status of the first transaction with that id.
      const status = this.#store.txStatus(tx.txId);
      for (const resolve of waiters) resolve(status === undefined ? { code: tx.code, blockNum: number } : { code: status.code, blockNum: status.blockNum });
    }
    for (const listener of this.#blockListeners) listener(number);
    if (this.#pending.length > 0 && this.#timer === undefined && !this.#closed) setImmediate(() => this.#cutSafely());
  }

  #cutSafely(): void {
    const count = Math.min(this.#pending.length, this.#options.maxTx);
    try {
      this.cutBlock();
    } catch (err) {
      this.#options.onCommitError(err, this.#next, count);
    }
  }

  /** Resolves with the transaction's validation code once it is in a block. */
  waitForTx(txId: string, signal?: AbortSignal): Promise<TxStatus> {
    const committed = this.#store.txStatus(txId);
    if (committed !== undefined) return Promise.resolve({ code: committed.code, blockNum: committed.blockNum });
    return new Promise((resolve, reject) => {
      const waiter = (status: TxStatus) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(status);
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

  /** Commits what is pending and takes no more transactions. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#pending.length > 0) this.cutBlock();
  }
}
