import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cancelRunsOutsideLease,
  fileCheckpointStore,
  followLedger,
  leaseChangesOf,
  type CheckpointStore,
  type EventCheckpoint,
} from '../../../src/app/workflows/ledgerFollower';
import { ensureIndexed } from '../../../src/app/workflows/runIndexing';
import { SqliteRunIndex } from '../../../src/adapters/runIndex/sqliteRunIndex';
import type { LedgerEvent } from '../../../src/ports/ledger';
import { FakeLedger, FakeRuns, silentLog } from './fakes';

const alice = { user: 'alice', org: 'uis' };
const bob = { user: 'bob', org: 'uio' };
const lease = (datasetId: string, holder = alice) => ({
  datasetId,
  holder: { ...holder, mspId: 'X' },
  takenAt: '2026-01-01T00:00:00.000Z',
  expiresAt: '2026-01-01T00:01:00.000Z',
});
/** A deleted dataset as the chaincode's DatasetDeleted event carries it. */
const tombstone = (id: string) => ({
  id,
  name: 'n',
  description: '',
  owner: { ...alice, mspId: 'X' },
  policy: { leaseTtlSeconds: 60, maxLeaseTtlSeconds: 60 },
  storageKind: 'local',
  sealedLocation: '',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  deletedAt: '2026-01-01T00:00:00.000Z',
});
const event = (blockNumber: number, txId: string, name: string, payload: unknown): LedgerEvent => ({ blockNumber: BigInt(blockNumber), txId, name, payload });

async function runsOn(list: [string, string[], { user: string; org: string }][]): Promise<FakeRuns> {
  const runs = new FakeRuns();
  for (const [id, datasetIds, owner] of list) {
    await runs.start('workflowOrchestrator', id, {});
    runs.set(id, { runtimeStatus: 'Running', customStatus: { status: 'Running', submittedBy: owner, datasetIds, jobs: [] } });
  }
  return runs;
}

function memoryCheckpoints(): CheckpointStore & { saved: EventCheckpoint[] } {
  const saved: EventCheckpoint[] = [];
  return { saved, load: async () => saved[saved.length - 1], save: async (c) => void saved.push(c) };
}

test('the events that can end a lease name their datasets and why; the others none; a bad payload throws', () => {
  const owner = { ...lease('d1'), releasedBy: { ...bob, mspId: 'X' }, releasedAs: 'owner' };
  assert.deepEqual(leaseChangesOf(event(1, 't', 'LeaseReleased', owner)), [{ datasetId: 'd1', end: 'lease released by its owner' }]);
  assert.deepEqual(leaseChangesOf(event(1, 't', 'LeaseReleased', { ...owner, releasedAs: 'holder' })), [
    { datasetId: 'd1', end: 'lease released by its holder' },
  ]);
  assert.deepEqual(
    leaseChangesOf(event(1, 't', 'LeaseReleased', lease('d1'))),
    [{ datasetId: 'd1', end: 'lease released' }],
    'an event from before releasedAs',
  );
  assert.deepEqual(leaseChangesOf(event(1, 't', 'LeaseTaken', lease('d2'))), [{ datasetId: 'd2', end: 'lease expired' }]);
  assert.deepEqual(leaseChangesOf(event(1, 't', 'LeasesExpired', { leases: [lease('d1'), lease('d3')] })), [
    { datasetId: 'd1', end: 'lease expired' },
    { datasetId: 'd3', end: 'lease expired' },
  ]);
  assert.deepEqual(leaseChangesOf(event(1, 't', 'DatasetDeleted', { dataset: tombstone('d4'), endedLease: lease('d4') })), [
    { datasetId: 'd4', end: 'dataset deleted' },
  ]);
  assert.deepEqual(leaseChangesOf(event(1, 't', 'WorkflowLaunched', { datasetIds: ['d1'] })), []);
  assert.throws(() => leaseChangesOf(event(1, 't', 'LeaseReleased', { id: 'd1' })));
  assert.throws(() => leaseChangesOf(event(1, 't', 'LeaseReleased', { ...lease('d1'), releasedAs: 'someone' })));
  // A payload the adapter could not decode (not JSON) arrives as undefined.
  assert.throws(() => leaseChangesOf(event(1, 't', 'LeaseTaken', undefined)));
});

test("runs on a dataset are canceled unless they are its current holder's; runs elsewhere and finished ones are left", async () => {
  const runs = await runsOn([
    ['a', ['d1'], alice],
    ['b', ['d2'], alice],
    ['c', ['d1', 'd2'], alice],
    ['d', ['d1'], bob],
  ]);
  await runs.start('workflowOrchestrator', 'done', {});
  runs.set('done', { runtimeStatus: 'Completed', customStatus: { status: 'Succeeded', submittedBy: alice, datasetIds: ['d1'], jobs: [] } });
  const index = new SqliteRunIndex(':memory:');
  await ensureIndexed(index, runs, silentLog);
  assert.deepEqual(await cancelRunsOutsideLease('d1', bob, 'why', runs, index, silentLog), ['a', 'c'], "bob took d1 over: alice's runs on it stop");
  assert.deepEqual(await cancelRunsOutsideLease('d2', undefined, 'why', runs, index, silentLog), ['b', 'c'], 'no lease in force: every run on it stops');
  assert.ok(runs.raised.every((r) => r.eventName === 'cancel' && (r.data as { reason: string }).reason === 'why'));
});

test('a pass cancels from the lease in force, then moves the checkpoint past the last event', async () => {
  const ledger = new FakeLedger();
  ledger.lease('d2', alice); // alice took d2 again after releasing it: her run on it stays
  ledger.committed.push(
    event(3, 'tx-a', 'LeaseTaken', lease('d1')),
    event(4, 'tx-b', 'LeaseReleased', lease('d1')),
    event(4, 'tx-c', 'LeaseReleased', lease('d2')),
    event(5, 'tx-d', 'LeaseTaken', lease('d2')),
  );
  const runs = await runsOn([
    ['a', ['d1'], alice],
    ['b', ['d2'], alice],
  ]);
  const checkpoints = memoryCheckpoints();
  const index = new SqliteRunIndex(':memory:');
  const pass = await followLedger({ ledger, platform: alice, runs, index, checkpoints, log: silentLog, idleMs: 20 });
  assert.deepEqual(pass, { events: 4, canceled: ['a'] });
  assert.deepEqual(checkpoints.saved, [{ blockNumber: 5n, transactionId: 'tx-d' }]);
  assert.deepEqual(
    runs.raised.map((r) => [r.instanceId, r.data]),
    [['a', { reason: 'dataset d1: lease released' }]],
    'a release outranks the takeover before it in the same pass',
  );
  const timer = runs.records.get('lease-expiry:d2:2099-01-01T00:00:00.000Z');
  assert.equal(timer?.name, 'leaseExpiryOrchestrator', 'the lease in force gets its exact expiry timer');
  assert.deepEqual(timer?.input, { datasetId: 'd2', expiresAt: '2099-01-01T00:00:00.000Z' });

  // The next pass resumes after the checkpoint: only what was committed since.
  ledger.leases.delete('d2');
  ledger.committed.push(event(6, 'tx-e', 'DatasetDeleted', { dataset: tombstone('d2') }));
  const next = await followLedger({ ledger, platform: alice, runs, index, checkpoints, log: silentLog, idleMs: 20 });
  assert.deepEqual(next, { events: 1, canceled: ['b'] });
  assert.deepEqual(runs.raised.at(-1)?.data, { reason: 'dataset d2: dataset deleted' });
  const quiet = await followLedger({ ledger, platform: alice, runs, index, checkpoints, log: silentLog, idleMs: 20 });
  assert.deepEqual(quiet, { events: 0, canceled: [] });
  assert.equal(checkpoints.saved.length, 2, 'nothing read, nothing moved');
});

test('a pass that fails before its cancels are done leaves the checkpoint where it was', async () => {
  const ledger = new FakeLedger();
  ledger.committed.push(event(1, 'tx-a', 'LeaseReleased', lease('d1')));
  const runs = await runsOn([['a', ['d1'], alice]]);
  runs.raise = async () => {
    throw new Error('durable client unavailable');
  };
  const checkpoints = memoryCheckpoints();
  const index = new SqliteRunIndex(':memory:');
  await assert.rejects(followLedger({ ledger, platform: alice, runs, index, checkpoints, log: silentLog, idleMs: 20 }), /unavailable/);
  assert.deepEqual(checkpoints.saved, []);
});

test('the file checkpoint survives a new store on the same path (a restart)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lf-checkpoint-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'ledger-events', 'checkpoint.json');
  assert.equal(await fileCheckpointStore(path).load(), undefined);
  await fileCheckpointStore(path).save({ blockNumber: 12345678901234567890n, transactionId: 'tx-z' });
  assert.deepEqual(await fileCheckpointStore(path).load(), { blockNumber: 12345678901234567890n, transactionId: 'tx-z' });
});

test('a lease seen again (a repeated pass, a restart) does not start its expiry timer twice', async () => {
  const ledger = new FakeLedger();
  ledger.lease('d1', alice, '2099-01-01T00:00:00.000Z');
  ledger.committed.push(event(1, 'tx-a', 'LeaseTaken', lease('d1')));
  const runs = new FakeRuns();
  // No checkpoint is saved between the passes: the second reads the same event again.
  const checkpoints: CheckpointStore = { load: async () => undefined, save: async () => undefined };
  await followLedger({ ledger, platform: alice, runs, index: new SqliteRunIndex(':memory:'), checkpoints, log: silentLog, idleMs: 20 });
  await followLedger({ ledger, platform: alice, runs, index: new SqliteRunIndex(':memory:'), checkpoints, log: silentLog, idleMs: 20 });
  assert.deepEqual([...runs.records.keys()], ['lease-expiry:d1:2099-01-01T00:00:00.000Z']);
});

test('a takeover read with no lease in force now cancels nothing yet: the event that ended the lease, read next, says why', async () => {
  const ledger = new FakeLedger();
  ledger.committed.push(event(1, 'tx-a', 'LeaseTaken', lease('d1')));
  const runs = await runsOn([['a', ['d1'], alice]]);
  const checkpoints = memoryCheckpoints();
  const index = new SqliteRunIndex(':memory:');
  // The owner released d1 after the stream went quiet and before the pass read the lease.
  assert.deepEqual(await followLedger({ ledger, platform: alice, runs, index, checkpoints, log: silentLog, idleMs: 20 }), { events: 1, canceled: [] });
  ledger.committed.push(event(2, 'tx-b', 'LeaseReleased', { ...lease('d1'), releasedAs: 'owner' }));
  assert.deepEqual(await followLedger({ ledger, platform: alice, runs, index, checkpoints, log: silentLog, idleMs: 20 }), { events: 1, canceled: ['a'] });
  assert.deepEqual(runs.raised[0]?.data, { reason: 'dataset d1: lease released by its owner' });
});

test("a takeover by another holder cancels the old holder's runs: its lease had run out", async () => {
  const ledger = new FakeLedger();
  ledger.lease('d1', bob);
  ledger.committed.push(event(1, 'tx-a', 'LeaseTaken', lease('d1', bob)));
  const runs = await runsOn([['a', ['d1'], alice]]);
  assert.deepEqual(
    await followLedger({ ledger, platform: alice, runs, index: new SqliteRunIndex(':memory:'), checkpoints: memoryCheckpoints(), log: silentLog, idleMs: 20 }),
    {
      events: 1,
      canceled: ['a'],
    },
  );
  assert.deepEqual(runs.raised[0]?.data, { reason: 'dataset d1: lease expired' });
});
