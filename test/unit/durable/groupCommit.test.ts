import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { GroupCommit } from '../../../src/durable/groupCommit';
import { event, EventType } from '../../../src/durable/history';
import { DurableStore, type StoredMessage, type WriteBatch } from '../../../src/durable/store';

/** Every row of every table, in a stable order. */
function dump(file: string): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true });
  try {
    const tables = ['instances', 'history', 'messages', 'activities'];
    return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT * FROM ${t} ORDER BY 1, 2`).all()]));
  } finally {
    db.close();
  }
}

/** The same batches each time: text that JSON escapes (a lone surrogate included), fields left undefined. */
function batches(): WriteBatch[] {
  const at = new Date(1_700_000_000_123);
  const started: StoredMessage = {
    instanceId: 'i1',
    visibleAt: 0,
    event: event(EventType.ExecutionStarted, at, {
      Name: 'orch',
      Input: '"é🎉\\u0000 \ud800"',
      OrchestrationInstance: { InstanceId: 'i1', ExecutionId: 'e1' },
      ParentInstance: undefined,
    }),
  };
  const timer: StoredMessage = { instanceId: 'i1', visibleAt: 42, event: event(EventType.TimerFired, at, { TimerId: 3, FireAt: at.toISOString() }) };
  return [
    {
      putInstances: [
        {
          instanceId: 'i1',
          name: 'orch',
          executionId: 'e1',
          status: 'Pending',
          input: '"é🎉"',
          output: undefined,
          customStatus: undefined,
          failure: undefined,
          createdAt: 1,
          updatedAt: 1,
          parentInstanceId: undefined,
        },
      ],
      insertMessages: [started, timer],
    },
    {
      // Deleted by the object the batch before inserts (its row id assigned when written).
      deleteMessages: [started],
      appendHistory: [{ instanceId: 'i1', from: 0, events: [event(EventType.OrchestratorStarted, at, {}), started.event] }],
      insertActivities: [{ instanceId: 'i1', executionId: 'e1', taskId: 0, name: 'a', input: undefined }],
      putInstances: [
        {
          instanceId: 'i1',
          name: 'orch',
          executionId: 'e1',
          status: 'Failed',
          input: '"é🎉"',
          output: undefined,
          customStatus: '"\ud83d"',
          failure: { message: 'boom\n"quoted"', type: undefined, details: 'at x' },
          createdAt: 1,
          updatedAt: 2,
          parentInstanceId: 'p',
        },
      ],
    },
  ];
}

test('batches committed on the writer thread store exactly what the store commits itself', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'group-commit-'));
  try {
    const direct = new DurableStore(join(dir, 'direct.db'));
    direct.commit(batches(), { owner: 'me', until: 7 });
    direct.close();

    const store = new DurableStore(join(dir, 'writer.db'));
    store.lease = { owner: 'me', until: () => 7 };
    const commits = new GroupCommit(store);
    // Written in one turn: both go to the writer in one transaction.
    await Promise.all(batches().map((b) => commits.write(b)));
    commits.close();
    store.close();

    assert.deepEqual(dump(join(dir, 'writer.db')), dump(join(dir, 'direct.db')));
    assert.equal(dump(join(dir, 'writer.db'))['history']?.length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
