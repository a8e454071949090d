import type BetterSqlite3 from 'better-sqlite3';
import { existsSync, linkSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fsyncPathSync } from './atomicFile';

type Open = (file: string) => BetterSqlite3.Database;

/**
 * Opens the SQLite file `file`, `format` having run on it: the file's pragmas and schema,
 * idempotent (`IF NOT EXISTS`), since it runs on every open. A file that does not exist yet
 * is made with `createSqliteFile` first.
 */
export function openSqlite(file: string, open: Open, format: (db: BetterSqlite3.Database) => void): BetterSqlite3.Database {
  if (!existsSync(file)) createSqliteFile(file, open, format);
  const db = open(file);
  try {
    format(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

/**
 * Makes the SQLite file `file` whole or not at all: formatted beside its place in a temp
 * file of this process's own with `synchronous = OFF`, flushed once, linked into place, and
 * the directory flushed. Made in place, a new WAL-mode file cost eight fsyncs (the
 * rollback-journal transactions that write its first page and switch it to WAL, each with
 * the journal's and the directory's): 3.75 ms against 0.53 ms to open an existing one, on
 * every first start. The link, unlike a rename, fails when the file appeared meanwhile:
 * another process that made it first (an early client of the queue store, a second host
 * racing for the data-dir lock) keeps its file, and this one opens that. A crash leaves the
 * file whole or absent, and at most this pid's temp file, removed when a process of the
 * same pid makes the file again.
 */
export function createSqliteFile(file: string, open: Open, format: (db: BetterSqlite3.Database) => void): void {
  const temp = `${file}.${process.pid}.new`;
  const removeTemp = () => {
    for (const suffix of ['', '-journal', '-wal', '-shm']) rmSync(temp + suffix, { force: true });
  };
  removeTemp();
  try {
    const db = open(temp);
    try {
      db.pragma('synchronous = OFF');
      format(db);
    } finally {
      // Closing the last connection checkpoints a WAL into the file and deletes it.
      db.close();
    }
    fsyncPathSync(temp);
    try {
      linkSync(temp, file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
      throw err;
    }
    fsyncPathSync(dirname(file));
  } finally {
    removeTemp();
  }
}
