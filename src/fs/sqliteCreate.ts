import type BetterSqlite3 from 'better-sqlite3';
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

type Open = (file: string) => BetterSqlite3.Database;

/**
 * Opens the SQLite file `file`, `format` having run on it: the file's pragmas and schema,
 * idempotent (`IF NOT EXISTS`), since it runs on every open.
 *
 * A file that does not exist yet is made whole or not at all: formatted beside its place
 * with `synchronous = OFF`, flushed once, renamed into place, and the directory flushed.
 * Made in place, a new WAL-mode file cost eight fsyncs (the rollback-journal transactions
 * that write its first page and switch it to WAL, each with the journal's and the
 * directory's): 3.75 ms against 0.53 ms to open an existing one, on every first start.
 * A crash before the rename leaves only the temp file, which the next open removes.
 *
 * Only for files one process owns (the host's, under its data-dir lock): two processes
 * creating the same file at once would each rename their own over the other's.
 */
export function openSqlite(file: string, open: Open, format: (db: BetterSqlite3.Database) => void): BetterSqlite3.Database {
  if (!existsSync(file)) create(file, open, format);
  const db = open(file);
  try {
    format(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

function create(file: string, open: Open, format: (db: BetterSqlite3.Database) => void): void {
  const temp = join(dirname(file), `.${basename(file)}.new`);
  const removeTemp = () => {
    for (const suffix of ['', '-journal', '-wal', '-shm']) rmSync(temp + suffix, { force: true });
  };
  removeTemp();
  const db = open(temp);
  try {
    db.pragma('synchronous = OFF');
    format(db);
    // Closing the last connection checkpoints the WAL into the file and deletes it.
    db.close();
    const fd = openSync(temp, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (err) {
    if (db.open) db.close();
    removeTemp();
    throw err;
  }
  const dir = openSync(dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
