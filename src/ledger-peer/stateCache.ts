/**
 * What the peer's reading connection last learnt of recently used keys: the committed value,
 * version and endorsement policy, and the newest key history entry. A lease reads a key, its
 * policy (twice: planned at endorsement, checked at validation), its version and its newest
 * history entry, each a SQLite statement whose pages the commit worker's last block has just
 * invalidated. The commit worker is the ledger's only writer and the orderer applies each block
 * here once it is durable (`apply`), so an entry is the key as of some committed block, never a
 * block still in flight: what the store answered before, read at a slightly earlier moment
 * (validation sees in-flight blocks through the orderer, and MVCC refuses a stale read).
 *
 * A row read from SQLite may already hold blocks not applied here yet (durable, their reply
 * not yet handled), so a block that touches such a key makes it unknown again rather than
 * being replayed onto a later state (a policy update only applies to a row that exists then),
 * unless the block was handed to the writer after the read (`writing`): the row cannot hold
 * it, so it is applied (a key registered and then used soon after stays known).
 * A key's newest history entry is never older than its value: it is forgotten when the value
 * is read again from SQLite, so the chaincode's time guard never reads an older last change
 * than the value it read.
 */

/** A state row as SQLite returns it; `metadata` undefined: not known here (read it). */
export interface StateRow {
  value: Buffer;
  block_num: number;
  tx_num: number;
  metadata: Buffer | null | undefined;
}

/** What a durable block changed, as `LedgerStore.commitBlock` writes it (its BlockRecord). */
export interface CommittedBlock {
  number: number;
  txs: readonly {
    txId: string;
    code: number;
    timestamp: Date;
    writes: readonly { ns: string; key: string; value: Buffer | null }[];
    metadataWrites?: readonly { ns: string; key: string; value: Buffer | null }[];
  }[];
}

/** A key history row as SQLite returns it. */
export interface HistoryRow {
  block_num: number;
  tx_num: number;
  tx_id: string;
  ts_ms: number;
  is_delete: number;
  value: Buffer | null;
}

/** undefined: not known here; null: the key does not exist / has no history. */
interface Entry {
  state: StateRow | null | undefined;
  head: HistoryRow | null | undefined;
  /** `state` was read from SQLite, which may then have held blocks up to this number not applied
   * yet (Infinity: any); -1: built by `apply` alone. */
  readAt: number;
  bytes: number;
}

/** Bounds on what the cache holds, small beside a host's heap (the peer may run inside one);
 * the keys written last stay (a write moves its key to the back). */
const MAX_KEYS = 10_000;
/** Values are copied out of the 8 KiB pool slabs they arrive in, so this bounds what is held. */
const MAX_BYTES = 8 * 1024 * 1024;
/** Evicted at once when a bound is passed (oldest first), so eviction scans the map rarely. */
const EVICT_FRACTION = 0.1;
/** Per-entry overhead counted against MAX_BYTES besides the value. */
const ENTRY_BYTES = 200;

export class StateCache {
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;
  /** The highest block number handed to the writer so far; undefined: not told (any block). */
  #writing: number | undefined;

  /** Block `number` is being handed to the writer: SQLite may hold it from now on. */
  writing(number: number): void {
    this.#writing = Math.max(this.#writing ?? -1, number);
  }

  /** The key's state if known here (null: no such key). */
  state(ns: string, key: string): StateRow | null | undefined {
    return this.#entries.get(id(ns, key))?.state;
  }

  /** The key's newest history entry if known here (null: none). */
  head(ns: string, key: string): HistoryRow | null | undefined {
    return this.#entries.get(id(ns, key))?.head;
  }

  /** Remembers a state row just read from SQLite, and forgets a history entry that may be older. */
  fillState(ns: string, key: string, row: StateRow | null): void {
    const entry = this.#entry(ns, key);
    this.#setState(entry, row === null ? null : { ...row, value: owned(row.value) });
    entry.readAt = this.#writing ?? Infinity;
    entry.head = undefined;
    this.#evict();
  }

  /** Remembers the newest history entry just read from SQLite. */
  fillHead(ns: string, key: string, row: HistoryRow | null): void {
    this.#entry(ns, key).head = row;
    this.#evict();
  }

  /** A block now durable: its valid transactions' writes, as `LedgerStore.commitBlock` wrote them. */
  apply(record: CommittedBlock): void {
    record.txs.forEach((tx, txNum) => {
      if (tx.code !== 0) return;
      const tsMs = tx.timestamp.getTime();
      for (const w of tx.writes) {
        const entry = this.#entry(w.ns, w.key, true);
        if (record.number <= entry.readAt) {
          this.#forget(entry);
          continue;
        }
        const before = entry.state;
        // A new row has no policy; an updated one keeps its own (unknown here if the row is).
        const metadata = before === undefined ? undefined : before === null ? null : before.metadata;
        this.#setState(entry, w.value === null ? null : { value: owned(w.value), block_num: record.number, tx_num: txNum, metadata });
        entry.head = { block_num: record.number, tx_num: txNum, tx_id: tx.txId, ts_ms: tsMs, is_delete: w.value === null ? 1 : 0, value: null };
      }
      for (const m of tx.metadataWrites ?? []) {
        const entry = this.#entries.get(id(m.ns, m.key));
        if (entry === undefined) continue;
        if (record.number <= entry.readAt) this.#forget(entry);
        // An UPDATE of the row if it exists; a row not known here is read when needed.
        else if (entry.state != null) {
          this.#setState(entry, { ...entry.state, metadata: m.value === null ? null : owned(m.value), block_num: record.number, tx_num: txNum });
        }
      }
    });
    this.#evict();
  }

  #forget(entry: Entry): void {
    this.#setState(entry, undefined);
    entry.head = undefined;
    entry.readAt = -1;
  }

  /** `written`: moved to the back, the last to be evicted. */
  #entry(ns: string, key: string, written = false): Entry {
    const k = id(ns, key);
    let entry = this.#entries.get(k);
    if (entry !== undefined && written) {
      this.#entries.delete(k);
      this.#entries.set(k, entry);
    }
    if (entry === undefined) {
      entry = { state: undefined, head: undefined, readAt: -1, bytes: ENTRY_BYTES + k.length * 2 };
      this.#entries.set(k, entry);
      this.#bytes += entry.bytes;
    }
    return entry;
  }

  #setState(entry: Entry, state: StateRow | null | undefined): void {
    const size = (s: StateRow | null | undefined) => (s == null ? 0 : s.value.length + (s.metadata?.length ?? 0));
    this.#bytes += size(state) - size(entry.state);
    entry.bytes += size(state) - size(entry.state);
    entry.state = state;
  }

  #evict(): void {
    if (this.#entries.size <= MAX_KEYS && this.#bytes <= MAX_BYTES) return;
    let drop = Math.max(1, Math.floor(this.#entries.size * EVICT_FRACTION));
    for (const [k, entry] of this.#entries) {
      if (drop-- <= 0 && this.#bytes <= MAX_BYTES) break;
      this.#entries.delete(k);
      this.#bytes -= entry.bytes;
    }
  }
}

/** Keys may hold any character: the namespace's length makes the pair one string unambiguously. */
const id = (ns: string, key: string): string => `${ns.length}:${ns}${key}`;

/** A copy in its own memory when the value is a view into a larger buffer (a pool slab). */
function owned(value: Buffer): Buffer {
  if (value.byteOffset === 0 && value.buffer.byteLength === value.length) return value;
  return Buffer.from(Uint8Array.prototype.slice.call(value).buffer);
}
