import type BetterSqlite3 from 'better-sqlite3';

/**
 * Keeping the data dir's SQLite files from growing without bound (issue 24). Every store
 * opens its database through `boundedStorage`: a new file gets `auto_vacuum = INCREMENTAL`
 * (pages freed by a purge can be handed back without rewriting the file), and the WAL is
 * truncated to `WAL_LIMIT_BYTES` whenever a checkpoint empties it. `compact` is for a quiet
 * moment: it gives free pages back and truncates the WAL to zero.
 */
export const WAL_LIMIT_BYTES = 1024 * 1024;

/** Call right after opening, before the first table is created. */
export function boundedStorage(db: BetterSqlite3.Database): void {
  // Only takes effect on a database with no table yet; an older file keeps its mode until
  // `compact` converts it.
  if (db.pragma('page_count', { simple: true }) === 0) db.pragma('auto_vacuum = INCREMENTAL');
  db.pragma(`journal_size_limit = ${WAL_LIMIT_BYTES}`);
}

export interface Compaction {
  /** Pages given back to the file system. */
  freedPages: number;
  /** `vacuum`: a file made before incremental vacuum, rewritten once (and converted). */
  mode: 'incremental' | 'vacuum' | 'none';
}

/**
 * Gives free pages back and empties the WAL. With incremental vacuum that costs what was
 * freed; a file from before gets one full VACUUM, only once a quarter of it is free.
 */
export function compact(db: BetterSqlite3.Database): Compaction {
  const free = Number(db.pragma('freelist_count', { simple: true }));
  const pages = Number(db.pragma('page_count', { simple: true }));
  let mode: Compaction['mode'] = 'none';
  if (free > 0 && Number(db.pragma('auto_vacuum', { simple: true })) === 2) {
    db.pragma('incremental_vacuum');
    mode = 'incremental';
  } else if (free > 0 && free * 4 >= pages) {
    db.pragma('auto_vacuum = INCREMENTAL');
    db.exec('VACUUM');
    mode = 'vacuum';
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  return { freedPages: mode === 'none' ? 0 : free - Number(db.pragma('freelist_count', { simple: true })), mode };
}
