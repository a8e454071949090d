import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { openSqlite } from '../../../src/fs/sqliteCreate';
import { DurableStore } from '../../../src/durable/store';

function inTempDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'sqlite-create-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const open = (path: string) => new Database(path);
const format = (db: Database.Database) => {
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v TEXT)');
};

test('a new file is made beside its place and linked in whole: formatted, WAL, nothing else left in the directory', () => {
  inTempDir((dir) => {
    const file = join(dir, 'a.db');
    const db = openSqlite(file, open, format);
    db.prepare('INSERT INTO t VALUES (?, ?)').run('k', 'v');
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
    assert.deepEqual(readdirSync(dir), ['a.db']);
    const again = new Database(file, { fileMustExist: true });
    assert.deepEqual(again.prepare('SELECT * FROM t').all(), [{ k: 'k', v: 'v' }]);
    again.close();
  });
});

test('an existing file is opened as it is: its rows stay, and format runs again on it', () => {
  inTempDir((dir) => {
    const file = join(dir, 'a.db');
    const first = openSqlite(file, open, format);
    first.prepare('INSERT INTO t VALUES (?, ?)').run('kept', '1');
    first.close();
    let formatted = 0;
    const db = openSqlite(file, open, (d) => {
      formatted++;
      format(d);
    });
    assert.equal(formatted, 1);
    assert.deepEqual(db.prepare('SELECT k FROM t').all(), [{ k: 'kept' }]);
    db.close();
  });
});

test('what a crash of a process of this pid left of an earlier creation (a torn temp file and its WAL) is thrown away, not opened', () => {
  inTempDir((dir) => {
    const file = join(dir, 'a.db');
    writeFileSync(join(dir, `a.db.${process.pid}.new`), 'not a database, torn by a crash');
    writeFileSync(join(dir, `a.db.${process.pid}.new-wal`), 'garbage');
    const db = openSqlite(file, open, format);
    assert.deepEqual(db.prepare('SELECT count(*) AS n FROM t').get(), { n: 0 });
    db.close();
    assert.deepEqual(readdirSync(dir), ['a.db']);
  });
});

test('a file another process made while this one formatted its own is kept, rows and all, and opened: the link does not replace it', () => {
  inTempDir((dir) => {
    const file = join(dir, 'a.db');
    const db = openSqlite(file, open, (d) => {
      format(d);
      // Another process creating the same file wins the race, after existsSync said no.
      if (!existsSync(file)) {
        const other = new Database(file);
        format(other);
        other.prepare('INSERT INTO t VALUES (?, ?)').run('theirs', '1');
        other.close();
      }
    });
    assert.deepEqual(db.prepare('SELECT k FROM t').all(), [{ k: 'theirs' }]);
    db.close();
    assert.deepEqual(readdirSync(dir), ['a.db']);
  });
});

test('a format that fails on a new file leaves no file at its place, and no temp file', () => {
  inTempDir((dir) => {
    const file = join(dir, 'a.db');
    assert.throws(
      () =>
        openSqlite(file, open, (db) => {
          format(db);
          db.exec('CREATE TABLE broken (');
        }),
      /syntax error|incomplete input/,
    );
    assert.equal(existsSync(file), false);
    assert.deepEqual(readdirSync(dir), []);
  });
});

test('the durable store made this way has its schema, small pages, WAL and incremental vacuum', () => {
  inTempDir((dir) => {
    const file = join(dir, 'durable.db');
    const store = new DurableStore(file);
    assert.equal(store.getInstance('nope'), undefined);
    store.close();
    const db = new Database(file, { fileMustExist: true });
    assert.equal(db.pragma('page_size', { simple: true }), 1024);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('auto_vacuum', { simple: true }), 2);
    db.close();
  });
});
