import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createSqliteFile } from './sqliteCreate';

/**
 * A lock held for the life of this process and released by the kernel when it dies.
 *
 * Node has no flock(); SQLite's unix VFS takes fcntl() record locks, and an exclusive-mode
 * connection (`locking_mode=EXCLUSIVE`) keeps the write lock `BEGIN EXCLUSIVE` takes until it
 * is closed, past the commit. The kernel drops fcntl locks as the dying process's files are closed, before it
 * becomes a zombie, so a restart right after `kill -9` finds the lock free, and a reused
 * pid (containers) can never make a dead owner look alive. better-sqlite3 is already a
 * dependency, so no native package is added for this. Pids are written beside the lock only
 * to name the holder in the refusal message; they decide nothing.
 */
export class LockHeldError extends Error {
  /** The pid the holder recorded, if it could be read. */
  readonly holderPid: number | undefined;
  constructor(file: string, holderPid: number | undefined, options: { cause?: unknown }) {
    super(`${file} is locked by another process${holderPid === undefined ? '' : ` (pid ${holderPid})`}`, options);
    this.name = 'LockHeldError';
    this.holderPid = holderPid;
  }
}

/** Every connection holding a lock. better-sqlite3 closes a collected connection, and with
 * it the kernel's lock: a caller that dropped its ProcessLock lost the lock at the next GC
 * (a holder that discarded the handle was found not holding it in 1 of 40 tries). */
const held = new Set<Database.Database>();

export interface ProcessLock {
  /** Releases the lock (idempotent); the kernel does it too when the process ends. */
  release(): void;
}

/** Takes `file` (an SQLite database used only as a lock) or throws LockHeldError at once. */
export function holdProcessLock(file: string): ProcessLock {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const pidFile = `${file}.pid`;
  // SQLite would write a new file's first page in a transaction of its own (five fsyncs).
  if (!existsSync(file))
    createSqliteFile(
      file,
      (f) => new Database(f),
      (db) => db.exec('PRAGMA journal_mode = OFF; BEGIN EXCLUSIVE; COMMIT'),
    );
  const db = new Database(file, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // The transaction writes nothing once the file exists (SQLite initializes a new one), so
    // taking the lock costs no fsync: a write here cost six on every start.
    db.exec('BEGIN EXCLUSIVE; COMMIT');
  } catch (err) {
    db.close();
    // Only a lock another connection holds is "held"; a full disk or an I/O error is itself.
    if (!isLockConflict(err)) throw err;
    throw new LockHeldError(file, readPid(pidFile), { cause: err });
  }
  try {
    writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 });
  } catch {
    // Informational only: a full disk must not keep the lock from being taken.
  }
  held.add(db);
  return {
    release() {
      if (!held.delete(db)) return;
      db.close();
    },
  };
}

function isLockConflict(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
