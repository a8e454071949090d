import { boundedStorage } from '../fs/sqliteUpkeep';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { StateReader, Version, VersionedValue } from './simulator/types';
import { holdProcessLock, LockHeldError, type ProcessLock } from '../fs/processLock';
import { BlockWrites } from './keyHistory';
import { StateCache, type HistoryRow, type StateRow } from './stateCache';

/**
 * The peer's persistent ledger in one SQLite file: blocks (Fabric-encoded), the transaction
 * index (validation code per tx id), world state with versions, key history and chaincode
 * events. The events table is an index too: it says which blocks hold a chaincode's events,
 * and the events served are read from those blocks (blockEvents.ts); `verify` checks every
 * row against the chain. Key history is an index into the blocks, as Fabric's history database is: a row says
 * which transaction wrote or deleted a key (with its tx id and time, which the chaincode's time
 * guard reads on every change), and the value is read from that transaction in the block only
 * when asked for. Its `value` column is filled only in ledgers written before that change
 * (such a row is served as stored; no migration needed); new rows leave it NULL. A block and everything it changes are written in ONE transaction (WAL,
 * synchronous=FULL: one fsync per block), so a crash leaves either the whole block or none.
 * One peer process owns a ledger (see `lockLedger`); within it, blocks are written by the
 * commit worker's connection while the main thread reads through its own (WAL: readers see
 * the last committed block and never wait for the writer).
 */

export interface CommittedTx {
  txId: string;
  code: number;
  timestamp: Date;
  writes: { ns: string; key: string; value: Buffer | null }[];
  /** Key-level endorsement policies set (null: removed), applied after the writes. */
  metadataWrites?: { ns: string; key: string; value: Buffer | null }[];
  event?: { chaincode: string; name: string; payload: Uint8Array };
}

export interface BlockRecord {
  number: number;
  headerHash: Buffer;
  bytes: Uint8Array;
  txs: CommittedTx[];
}

/** One entry of a key's history. `value` is a getter: it decodes the writing transaction from
 * its block on first access (a delete's value is empty without decoding). */
export interface KeyHistoryEntry {
  txId: string;
  timestamp: Date;
  isDelete: boolean;
  readonly value: Buffer;
}

export interface StoredEvent {
  blockNum: number;
  txNum: number;
  txId: string;
  chaincode: string;
  name: string;
  payload: Buffer;
}

const enc = (key: string) => Buffer.from(key, 'utf8');
const HISTORY_PAGE = 64;

export class LedgerStore {
  readonly db: Database.Database;
  readonly #stmts;
  readonly #cache: StateCache | undefined;

  /** `cache`: for the peer's reading connection, whose orderer calls `committed` for every block
   * the commit worker makes durable (stateCache.ts); no other connection may write the file. */
  constructor(file: string, options: { mustExist?: boolean; cache?: boolean } = {}) {
    mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file, { fileMustExist: options.mustExist ?? false });
    boundedStorage(this.db);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
        CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, header_hash BLOB NOT NULL, bytes BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS txs (tx_id TEXT PRIMARY KEY, block_num INTEGER NOT NULL, tx_num INTEGER NOT NULL, code INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS state (ns TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL, block_num INTEGER NOT NULL, tx_num INTEGER NOT NULL, PRIMARY KEY (ns, key)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS history (ns TEXT NOT NULL, key BLOB NOT NULL, block_num INTEGER NOT NULL, tx_num INTEGER NOT NULL, tx_id TEXT NOT NULL, ts_ms INTEGER NOT NULL, is_delete INTEGER NOT NULL, value BLOB, PRIMARY KEY (ns, key, block_num, tx_num)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS events (block_num INTEGER NOT NULL, tx_num INTEGER NOT NULL, tx_id TEXT NOT NULL, chaincode TEXT NOT NULL, name TEXT NOT NULL, payload BLOB NOT NULL, PRIMARY KEY (block_num, tx_num)) WITHOUT ROWID;
    `);
    // The key-level endorsement policy (VALIDATION_PARAMETER) kept with the value, as Fabric's
    // state database keeps a key's metadata; a ledger from before it gets the column.
    if (
      !this.db
        .prepare<[], { name: string }>('PRAGMA table_info(state)')
        .all()
        .some((c) => c.name === 'metadata')
    ) {
      this.db.exec('ALTER TABLE state ADD COLUMN metadata BLOB');
    }
    const db = this.db;
    this.#cache = options.cache === true ? new StateCache() : undefined;
    this.#stmts = {
      row: db.prepare<[string, Buffer], Omit<StateRow, 'metadata'> & { metadata: Buffer | null }>(
        'SELECT value, block_num, tx_num, metadata FROM state WHERE ns = ? AND key = ?',
      ),
      get: db.prepare<[string, Buffer], { value: Buffer; block_num: number; tx_num: number }>(
        'SELECT value, block_num, tx_num FROM state WHERE ns = ? AND key = ?',
      ),
      version: db.prepare<[string, Buffer], { block_num: number; tx_num: number }>('SELECT block_num, tx_num FROM state WHERE ns = ? AND key = ?'),
      rangeFrom: db.prepare<[string, Buffer], { key: Buffer; value: Buffer; block_num: number; tx_num: number }>(
        'SELECT key, value, block_num, tx_num FROM state WHERE ns = ? AND key >= ? ORDER BY key',
      ),
      rangeBetween: db.prepare<[string, Buffer, Buffer], { key: Buffer; value: Buffer; block_num: number; tx_num: number }>(
        'SELECT key, value, block_num, tx_num FROM state WHERE ns = ? AND key >= ? AND key < ? ORDER BY key',
      ),
      // The first page, which is all the time guard reads, without the bound that the later
      // pages need (a quarter less per guard).
      // The page size is in the SQL, not a parameter: better-sqlite3's SQLite (STAT4) prepares
      // a statement again at each step whose LIMIT is bound (9 -> 4 us per time guard).
      historyNewest: db.prepare<[string, Buffer], HistoryRow>(
        `SELECT block_num, tx_num, tx_id, ts_ms, is_delete, value FROM history WHERE ns = ? AND key = ? ORDER BY block_num DESC, tx_num DESC LIMIT ${HISTORY_PAGE}`,
      ),
      historyBefore: db.prepare<[string, Buffer, number, number], HistoryRow>(
        `SELECT block_num, tx_num, tx_id, ts_ms, is_delete, value FROM history WHERE ns = ? AND key = ? AND (block_num, tx_num) < (?, ?) ORDER BY block_num DESC, tx_num DESC LIMIT ${HISTORY_PAGE}`,
      ),
      tx: db.prepare<[string], { block_num: number; tx_num: number; code: number }>('SELECT block_num, tx_num, code FROM txs WHERE tx_id = ?'),
      last: db.prepare<[], { number: number; header_hash: Buffer }>('SELECT number, header_hash FROM blocks ORDER BY number DESC LIMIT 1'),
      block: db.prepare<[number], { number: number; header_hash: Buffer; bytes: Buffer }>('SELECT number, header_hash, bytes FROM blocks WHERE number = ?'),
      eventBlocks: db.prepare<[number, number, string], { block_num: number }>(
        'SELECT DISTINCT block_num FROM events WHERE block_num >= ? AND block_num < ? AND chaincode = ? ORDER BY block_num',
      ),
      insertBlock: db.prepare('INSERT INTO blocks (number, header_hash, bytes) VALUES (?, ?, ?)'),
      insertTx: db.prepare('INSERT OR IGNORE INTO txs (tx_id, block_num, tx_num, code) VALUES (?, ?, ?, ?)'),
      put: db.prepare(
        'INSERT INTO state (ns, key, value, block_num, tx_num) VALUES (?, ?, ?, ?, ?) ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, block_num = excluded.block_num, tx_num = excluded.tx_num',
      ),
      del: db.prepare('DELETE FROM state WHERE ns = ? AND key = ?'),
      putMetadata: db.prepare('UPDATE state SET metadata = ?, block_num = ?, tx_num = ? WHERE ns = ? AND key = ?'),
      metadata: db.prepare<[string, Buffer], { metadata: Buffer | null }>('SELECT metadata FROM state WHERE ns = ? AND key = ?'),
      insertHistory: db.prepare('INSERT INTO history (ns, key, block_num, tx_num, tx_id, ts_ms, is_delete) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      insertEvent: db.prepare('INSERT INTO events (block_num, tx_num, tx_id, chaincode, name, payload) VALUES (?, ?, ?, ?, ?, ?)'),
    };
  }

  get(ns: string, key: string): VersionedValue | undefined {
    const row = this.#cache === undefined ? this.#stmts.get.get(ns, enc(key)) : this.#cachedRow(ns, key);
    return row == null ? undefined : { value: row.value, version: { blockNum: row.block_num, txNum: row.tx_num } };
  }

  /** The key's committed version, without reading its value: what MVCC validation compares. */
  version(ns: string, key: string): Version | undefined {
    const row = this.#cache === undefined ? this.#stmts.version.get(ns, enc(key)) : this.#cachedRow(ns, key);
    return row == null ? undefined : { blockNum: row.block_num, txNum: row.tx_num };
  }

  /** The key's endorsement policy (a marshalled SignaturePolicyEnvelope), if it has one. */
  validationParameter(ns: string, key: string): Buffer | undefined {
    if (this.#cache === undefined) return this.#stmts.metadata.get(ns, enc(key))?.metadata ?? undefined;
    let row = this.#cachedRow(ns, key);
    if (row != null && row.metadata === undefined) row = this.#readRow(ns, key);
    return row?.metadata ?? undefined;
  }

  #cachedRow(ns: string, key: string): StateRow | null {
    const cached = this.#cache!.state(ns, key);
    return cached === undefined ? this.#readRow(ns, key) : cached;
  }

  #readRow(ns: string, key: string): StateRow | null {
    const row = this.#stmts.row.get(ns, enc(key)) ?? null;
    this.#cache!.fillState(ns, key, row);
    return row;
  }

  /** Block `number` is being handed to the commit worker (for the cache of the reading connection). */
  writing(number: number): void {
    this.#cache?.writing(number);
  }

  /** A block the commit worker has made durable, for the cache of the reading connection. */
  committed(record: BlockRecord): void {
    this.#cache?.apply(record);
  }

  *range(ns: string, startKey: string, endKey: string): Generator<{ key: string } & VersionedValue> {
    const rows = endKey === '' ? this.#stmts.rangeFrom.iterate(ns, enc(startKey)) : this.#stmts.rangeBetween.iterate(ns, enc(startKey), enc(endKey));
    for (const row of rows) {
      yield { key: row.key.toString('utf8'), value: row.value, version: { blockNum: row.block_num, txNum: row.tx_num } };
    }
  }

  /** Newest first, fetched a page at a time (no cursor stays open while the chaincode awaits):
   * the time guard reads only the newest entry of a key whose history grows with every change,
   * and not its value, so it decodes no block. */
  *history(ns: string, key: string): Generator<KeyHistoryEntry> {
    const keyBytes = enc(key);
    // The newest entry, when the cache knows it, stands for a first page of one.
    const head = this.#cache?.head(ns, key);
    if (head === null) return;
    let rows: HistoryRow[] | undefined = head === undefined ? undefined : [head];
    let before: Version | undefined;
    for (;;) {
      const cachedPage = rows !== undefined;
      if (rows === undefined) {
        rows = before === undefined ? this.#stmts.historyNewest.all(ns, keyBytes) : this.#stmts.historyBefore.all(ns, keyBytes, before.blockNum, before.txNum);
        if (before === undefined) this.#cache?.fillHead(ns, key, rows[0] ?? null);
      }
      const writes = new BlockWrites((n) => this.block(n)?.bytes);
      for (const row of rows) yield historyEntry(row, ns, key, writes);
      if (!cachedPage && rows.length < HISTORY_PAGE) return;
      const last = rows[rows.length - 1]!;
      before = { blockNum: last.block_num, txNum: last.tx_num };
      rows = undefined;
    }
  }

  /** A StateReader over one chaincode's namespace. Range results are materialised, and
   * history is read in pages, so a simulation that awaits mid-iteration never holds a
   * SQLite cursor across a commit. */
  reader(ns: string): StateReader {
    return {
      get: (key) => this.get(ns, key),
      validationParameter: (key) => this.validationParameter(ns, key),
      range: (startKey, endKey) => [...this.range(ns, startKey, endKey)],
      history: (key) => this.history(ns, key),
    };
  }

  txStatus(txId: string): { blockNum: number; txNum: number; code: number } | undefined {
    const row = this.#stmts.tx.get(txId);
    return row === undefined ? undefined : { blockNum: row.block_num, txNum: row.tx_num, code: row.code };
  }

  hasTx(txId: string): boolean {
    return this.#stmts.tx.get(txId) !== undefined;
  }

  lastBlock(): { number: number; headerHash: Buffer } | undefined {
    const row = this.#stmts.last.get();
    return row === undefined ? undefined : { number: row.number, headerHash: row.header_hash };
  }

  block(number: number): { number: number; headerHash: Buffer; bytes: Buffer } | undefined {
    const row = this.#stmts.block.get(number);
    return row === undefined ? undefined : { number: row.number, headerHash: row.header_hash, bytes: row.bytes };
  }

  /** The blocks in [fromBlock, toBlockExclusive) with events of `chaincode`, by the events
   * table, which serves as an index only: the events themselves are read from those blocks. */
  eventBlocks(chaincode: string, fromBlock: number, toBlockExclusive: number): number[] {
    return this.#stmts.eventBlocks.all(fromBlock, toBlockExclusive, chaincode).map((r) => r.block_num);
  }

  /** Writes a block and its effects atomically (one fsync). */
  commitBlock(record: BlockRecord): void {
    const s = this.#stmts;
    this.db.transaction(() => {
      s.insertBlock.run(record.number, record.headerHash, record.bytes);
      record.txs.forEach((tx, txNum) => {
        if (tx.txId !== '') s.insertTx.run(tx.txId, record.number, txNum, tx.code);
        if (tx.code !== 0) return;
        const ts = tx.timestamp.getTime();
        for (const w of tx.writes) {
          const key = enc(w.key);
          if (w.value === null) s.del.run(w.ns, key);
          else s.put.run(w.ns, key, w.value, record.number, txNum);
          s.insertHistory.run(w.ns, key, record.number, txNum, tx.txId, ts, w.value === null ? 1 : 0);
        }
        for (const m of tx.metadataWrites ?? []) s.putMetadata.run(m.value, record.number, txNum, m.ns, enc(m.key));
        if (tx.event !== undefined) {
          s.insertEvent.run(record.number, txNum, tx.txId, tx.event.chaincode, tx.event.name, Buffer.from(tx.event.payload));
        }
      });
    })();
  }

  /** Every state row, in (namespace, key) order: for the verifier. */
  *allState(): Generator<{ ns: string; key: string; value: Buffer; version: Version; validationParameter?: Buffer }> {
    const rows = this.db
      .prepare<[], { ns: string; key: Buffer; value: Buffer; block_num: number; tx_num: number; metadata: Buffer | null }>(
        'SELECT ns, key, value, block_num, tx_num, metadata FROM state ORDER BY ns, key',
      )
      .iterate();
    for (const r of rows) {
      yield {
        ns: r.ns,
        key: r.key.toString('utf8'),
        value: r.value,
        version: { blockNum: r.block_num, txNum: r.tx_num },
        ...(r.metadata === null ? {} : { validationParameter: r.metadata }),
      };
    }
  }

  *allTxs(): Generator<{ txId: string; blockNum: number; txNum: number; code: number }> {
    const rows = this.db
      .prepare<[], { tx_id: string; block_num: number; tx_num: number; code: number }>(
        'SELECT tx_id, block_num, tx_num, code FROM txs ORDER BY block_num, tx_num',
      )
      .iterate();
    for (const r of rows) yield { txId: r.tx_id, blockNum: r.block_num, txNum: r.tx_num, code: r.code };
  }

  /** Every key history row in block order: for the verifier, which checks them against the blocks. */
  *allHistory(): Generator<{
    ns: string;
    key: string;
    blockNum: number;
    txNum: number;
    txId: string;
    timestampMs: number;
    isDelete: boolean;
    value: Buffer | null;
  }> {
    const rows = this.db
      .prepare<[], HistoryRow & { ns: string; key: Buffer }>(
        'SELECT ns, key, block_num, tx_num, tx_id, ts_ms, is_delete, value FROM history ORDER BY block_num, tx_num',
      )
      .iterate();
    for (const r of rows) {
      yield {
        ns: r.ns,
        key: r.key.toString('utf8'),
        blockNum: r.block_num,
        txNum: r.tx_num,
        txId: r.tx_id,
        timestampMs: r.ts_ms,
        isDelete: r.is_delete === 1,
        value: r.value,
      };
    }
  }

  /** Every events row in block order: for the verifier, which checks them against the blocks. */
  *allEvents(): Generator<StoredEvent> {
    const rows = this.db
      .prepare<[], StoredEventRow>('SELECT block_num, tx_num, tx_id, chaincode, name, payload FROM events ORDER BY block_num, tx_num')
      .iterate();
    for (const r of rows) yield { blockNum: r.block_num, txNum: r.tx_num, txId: r.tx_id, chaincode: r.chaincode, name: r.name, payload: r.payload };
  }

  *allBlocks(): Generator<{ number: number; headerHash: Buffer; bytes: Buffer }> {
    const rows = this.db
      .prepare<[], { number: number; header_hash: Buffer; bytes: Buffer }>('SELECT number, header_hash, bytes FROM blocks ORDER BY number')
      .iterate();
    for (const r of rows) yield { number: r.number, headerHash: r.header_hash, bytes: r.bytes };
  }

  close(): void {
    this.db.close();
  }
}

function historyEntry(row: HistoryRow, ns: string, key: string, writes: BlockWrites): KeyHistoryEntry {
  const isDelete = row.is_delete === 1;
  let value = row.value ?? (isDelete ? Buffer.alloc(0) : undefined);
  return {
    txId: row.tx_id,
    timestamp: new Date(row.ts_ms),
    isDelete,
    get value() {
      if (value === undefined) {
        const written = writes.write(row.block_num, row.tx_num, ns, key);
        if (written === null)
          throw new Error(`key history of ${ns}/${JSON.stringify(key)} at block ${row.block_num} transaction ${row.tx_num} is a write, the block deletes it`);
        value = written;
      }
      return value;
    },
  };
}

/** Holds the ledger for this process (see processLock.ts): a second peer on the same data
 * dir fails; a dead peer's lock is released by the kernel. */
export function lockLedger(file: string): ProcessLock {
  try {
    return holdProcessLock(`${file}.lock`);
  } catch (err) {
    // Anything else (a native module built for another Node, a disk error) is its own cause,
    // not "in use": saying so sent a Node 22 run looking for a peer that did not exist.
    if (!(err instanceof LockHeldError)) throw err;
    throw new Error(`the ledger ${file} is in use by another peer`, { cause: err });
  }
}

interface StoredEventRow {
  block_num: number;
  tx_num: number;
  tx_id: string;
  chaincode: string;
  name: string;
  payload: Buffer;
}
