import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { event, EventType } from '../../../src/durable/history';
import { DurableStore, type ActivityItem, type InstanceRow, type StoredMessage } from '../../../src/durable/store';

function withStore(fn: (store: DurableStore, file: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'durable-store-'));
  const file = join(dir, 'durable.db');
  const store = new DurableStore(file);
  try {
    fn(store, file);
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const row = (id: string, status: InstanceRow['status'], createdAt: number): InstanceRow => ({
  instanceId: id,
  name: 'orch',
  executionId: 'e',
  status,
  input: '1',
  output: undefined,
  customStatus: undefined,
  failure: undefined,
  createdAt,
  updatedAt: createdAt,
  parentInstanceId: undefined,
});
const item = (instanceId: string, taskId: number): ActivityItem => ({ instanceId, executionId: 'e', taskId, name: 'a', input: undefined });

test('one commit applies many batches and assigns row ids', () => {
  withStore((store) => {
    const m: StoredMessage = { instanceId: 'i1', visibleAt: 5, event: event(EventType.EventRaised, new Date(0), { Name: 'go', Input: '1' }) };
    const a = item('i1', 0);
    store.commit([
      { putInstances: [row('i1', 'Running', 1)], insertMessages: [m] },
      { insertActivities: [a], appendHistory: [{ instanceId: 'i1', from: 0, events: [event(EventType.OrchestratorStarted, new Date(0), {})] }] },
    ]);
    assert.ok(m.id !== undefined && a.id !== undefined);
    const [active] = store.loadActive();
    assert.equal(active?.row.instanceId, 'i1');
    assert.equal(active?.history.length, 1);
    assert.equal(active?.history[0]?.IsPlayed, true);
    assert.deepEqual(
      active?.inbox.map((x) => x.id),
      [m.id],
    );
    store.commit([{ dropWorkOf: ['i1'], putInstances: [row('i1', 'Completed', 1)] }]);
    assert.equal(store.loadActive().length, 0);
    assert.equal(store.claimActivities('me', Date.now() + 1000, () => true).length, 0);
  });
});

test('activity leases: expired or dead owners are taken over, live ones are not', () => {
  withStore((store) => {
    store.lease = { owner: 'host:1:alive', until: () => Date.now() + 60_000 };
    store.commit([{ insertActivities: [item('i1', 0)] }]);
    store.lease = { owner: 'host:999:dead', until: () => Date.now() + 60_000 };
    store.commit([{ insertActivities: [item('i1', 1)] }]);
    store.lease = { owner: 'host:2:expired', until: () => Date.now() - 1 };
    store.commit([{ insertActivities: [item('i1', 2)] }]);
    const taken = store.claimActivities('me', Date.now() + 1000, (owner) => owner.includes('dead'));
    assert.deepEqual(taken.map((t) => t.taskId).sort(), [1, 2]);
    assert.deepEqual(
      store.claimActivities('me', Date.now() + 1000, () => false),
      [],
      'mine are not claimed twice',
    );
    store.releaseLeases('host:1:alive');
    assert.deepEqual(
      store.claimActivities('other', Date.now() + 1000, () => false).map((t) => t.taskId),
      [0],
    );
  });
});

test('instance queries filter by status, creation time and id prefix, and page by id', () => {
  withStore((store) => {
    store.commit([{ putInstances: [row('a1', 'Completed', 10), row('a2', 'Running', 20), row('b1', 'Failed', 30), row('a3', 'Completed', 40)] }]);
    assert.deepEqual(
      store.queryInstances({ statuses: ['Completed'] }).map((r) => r.instanceId),
      ['a1', 'a3'],
    );
    assert.deepEqual(
      store.queryInstances({ createdFrom: 15, createdTo: 35 }).map((r) => r.instanceId),
      ['a2', 'b1'],
    );
    assert.deepEqual(
      store.queryInstances({ instanceIdPrefix: 'a', after: 'a1', limit: 1 }).map((r) => r.instanceId),
      ['a2'],
    );
    store.commit([{ deleteInstances: ['a1'] }]);
    assert.equal(store.getInstance('a1'), undefined);
  });
});
