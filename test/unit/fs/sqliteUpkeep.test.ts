import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { event, EventType } from '../../../src/durable/history';
import { DurableStore, type InstanceRow } from '../../../src/durable/store';
import { QueueStore } from '../../../src/host/queue/queueStore';
import { SqliteRunIndex } from '../../../src/adapters/runIndex/sqliteRunIndex';
import { compact } from '../../../src/fs/sqliteUpkeep';

/** Issue 24: after a purge and compaction the data dir's database files shrink, and WAL
 * files are emptied (and bounded in between). */
function inTempDir(fn: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'upkeep-'));
  return Promise.resolve(fn(dir)).finally(() => rmSync(dir, { recursive: true, force: true }));
}

const size = (file: string) => (existsSync(file) ? statSync(file).size : 0);
const onDisk = (file: string) => size(file) + size(`${file}-wal`);

const row = (id: string): InstanceRow => ({
  instanceId: id,
  name: 'workflowOrchestrator',
  executionId: 'e',
  status: 'Completed',
  input: JSON.stringify({ spec: 'x'.repeat(2000) }),
  output: 'null',
  customStatus: JSON.stringify({ jobs: 'y'.repeat(1000) }),
  failure: undefined,
  createdAt: 1,
  updatedAt: 1,
  parentInstanceId: undefined,
});

test('durable store: purging runs and compacting shrinks the file and empties the WAL', () =>
  inTempDir((dir) => {
    const file = join(dir, 'durable.db');
    const store = new DurableStore(file);
    try {
      const ids = Array.from({ length: 300 }, (_, i) => `${i.toString(16).padStart(8, '0')}-run`);
      for (const id of ids) {
        const events = Array.from({ length: 20 }, (_, n) => event(EventType.TaskCompleted, new Date(0), { TaskScheduledId: n, Result: 'z'.repeat(200) }));
        store.commit([{ putInstances: [row(id)], appendHistory: [{ instanceId: id, from: 0, events }] }]);
      }
      store.compact(); // a quiet moment with nothing freed: the WAL is folded in and emptied
      const full = onDisk(file);
      assert.equal(size(`${file}-wal`), 0);
      store.commit([{ deleteInstances: ids.slice(0, 270) }]);
      assert.ok(onDisk(file) >= full, 'a purge alone gives nothing back');
      const done = store.compact();
      assert.equal(done.mode, 'incremental');
      assert.ok(done.freedPages > 0);
      const after = onDisk(file);
      assert.ok(after < full / 3, `file shrank from ${full} to ${after} bytes`);
      assert.equal(size(`${file}-wal`), 0, 'WAL emptied');
      assert.equal(store.getInstance(ids[299]!)?.instanceId, ids[299], 'the rest is intact');
      assert.equal(store.getHistory(ids[299]!).length, 20);
    } finally {
      store.close();
    }
  }));

test('queue store: deleted messages are given back', () =>
  inTempDir((dir) => {
    const queues = new QueueStore(dir);
    const file = join(dir, 'queues.sqlite');
    try {
      for (let i = 0; i < 500; i++) queues.enqueue('workflow-cleanup', { workflowId: `wf-${i}`, pad: 'p'.repeat(1000) });
      queues.compact();
      const full = onDisk(file);
      for (const m of queues.receive('workflow-cleanup', 500, 60_000)) queues.delete(m);
      queues.compact();
      assert.ok(onDisk(file) < full / 3, `file shrank from ${full} to ${onDisk(file)} bytes`);
      assert.equal(queues.count('workflow-cleanup'), 0);
    } finally {
      queues.close();
    }
  }));

test('run index: removed rows are given back after a retention pass compacts it', () =>
  inTempDir(async (dir) => {
    const file = join(dir, 'run-index.sqlite');
    const index = new SqliteRunIndex(file);
    try {
      for (let i = 0; i < 2000; i++)
        await index.add({
          id: `wf-${i}`,
          org: 'uis',
          user: 'alice',
          createdAt: new Date(i).toISOString(),
          status: 'Succeeded',
          datasetIds: [`d-${i}`, `e-${i}`],
        });
      await index.compact();
      const full = onDisk(file);
      for (let i = 0; i < 1900; i++) await index.remove(`wf-${i}`);
      await index.compact();
      assert.ok(onDisk(file) < full / 2, `file shrank from ${full} to ${onDisk(file)} bytes`);
      assert.equal((await index.page('uis', { limit: 1000 })).length, 100);
    } finally {
      await index.close();
    }
  }));

test('a database made before incremental vacuum is rewritten once, in a quiet moment, when a quarter of it is free', () =>
  inTempDir((dir) => {
    const file = join(dir, 'old.db');
    const db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE t (v TEXT)');
      const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
      for (let i = 0; i < 2000; i++) insert.run('v'.repeat(500));
      db.pragma('wal_checkpoint(TRUNCATE)');
      const full = onDisk(file);
      assert.equal(compact(db).mode, 'none', 'nothing free: nothing to do');
      db.exec('DELETE FROM t WHERE rowid % 10 != 0');
      const done = compact(db);
      assert.equal(done.mode, 'vacuum');
      assert.equal(db.pragma('auto_vacuum', { simple: true }), 2, 'converted: later purges are incremental');
      assert.ok(onDisk(file) < full / 3);
    } finally {
      db.close();
    }
  }));
