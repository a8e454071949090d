import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { HistoryEntry, TrailEntry, WorkflowRecord } from '@ledgerflow/chaincode';
import { createIdentity, createPlatformIdentity, type TestIdentity } from '../../helpers/identities';
import { errorOf, LedgerHarness, newDataset } from '../../helpers/ledgerHarness';

let alice: TestIdentity; // uis, owner
let bob: TestIdentity; // ntnu, consumer
let dave: TestIdentity; // ntnu
let platform: TestIdentity;
const SPEC = 'a'.repeat(64);

before(async () => {
  [alice, bob, dave, platform] = await Promise.all([
    createIdentity('alice', 'uis'),
    createIdentity('bob', 'ntnu'),
    createIdentity('dave', 'ntnu'),
    createPlatformIdentity(),
  ]);
});

// Owner consent has its own tests (approvals.test.ts): these datasets opt out of it.
const noApproval = { policy: { leaseTtlSeconds: 60, maxLeaseTtlSeconds: 600, approval: 'none' } };

async function leasedToBob(): Promise<LedgerHarness> {
  const h = new LedgerHarness();
  await h.ok(alice, 'RegisterDataset', newDataset('dataset-01', noApproval));
  await h.ok(alice, 'RegisterDataset', newDataset('dataset-02', noApproval));
  await h.ok(bob, 'TakeLease', 'dataset-01', '0');
  await h.ok(bob, 'TakeLease', 'dataset-02', '0');
  return h;
}
const launch = (workflowId: string, datasetIds: string[]) => JSON.stringify({ workflowId, datasetIds, specHash: SPEC });
const finish = (workflowId: string, status = 'Succeeded') =>
  JSON.stringify({
    workflowId,
    status,
    jobs: [
      { name: 'uis', status: 'Succeeded', exitCode: 0 },
      { name: 'final', status, exitCode: status === 'Succeeded' ? 0 : 1 },
    ],
  });

describe('RecordWorkflowLaunched', () => {
  test('records who launched which datasets with which spec', async () => {
    const h = await leasedToBob();
    h.advance(3);
    const out = await h.submit(bob, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01', 'dataset-02']));
    const wf = JSON.parse(out.payload.toString()) as WorkflowRecord;
    assert.deepEqual(wf, {
      workflowId: 'wf-1',
      datasetIds: ['dataset-01', 'dataset-02'],
      specHash: SPEC,
      // The versions are the ledger's, read from the datasets at the launch.
      datasetVersions: [
        { datasetId: 'dataset-01', version: 1 },
        { datasetId: 'dataset-02', version: 1 },
      ],
      launchedBy: { user: 'bob', org: 'ntnu', mspId: 'NtnuMSP' },
      launchedAt: '2026-01-01T00:00:03.000Z',
      status: 'Running',
    });
    assert.equal(out.event?.name, 'WorkflowLaunched');
  });

  test('requires the caller to hold every lease, unexpired', async () => {
    const h = await leasedToBob();
    assert.equal(errorOf(await h.submit(dave, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01']))).code, 'forbidden');
    await h.ok(alice, 'RegisterDataset', newDataset('dataset-03', noApproval));
    assert.equal(errorOf(await h.submit(bob, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01', 'dataset-03']))).code, 'forbidden');
    h.advance(60);
    assert.equal(errorOf(await h.submit(bob, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01']))).code, 'forbidden');
    assert.equal(errorOf(await h.submit(bob, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-99']))).code, 'not_found');
  });

  test('validates input; the same launch again returns the stored record, another launch of the id is a conflict', async () => {
    const h = await leasedToBob();
    for (const bad of [
      JSON.stringify({ workflowId: 'wf-1', datasetIds: ['dataset-01'], specHash: 'nothex' }),
      JSON.stringify({ workflowId: 'wf 1', datasetIds: ['dataset-01'], specHash: SPEC }),
      JSON.stringify({ workflowId: 'wf-1', datasetIds: ['dataset-01', 'dataset-01'], specHash: SPEC }),
      JSON.stringify({ workflowId: 'wf-1', datasetIds: [], specHash: SPEC }),
    ]) {
      assert.equal(errorOf(await h.submit(bob, 'RecordWorkflowLaunched', bad)).code, 'validation_failed', bad);
    }
    const first = await h.ok<WorkflowRecord>(bob, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01']));
    h.advance(3);
    const again = await h.submit(bob, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01']));
    assert.deepEqual(JSON.parse(again.payload.toString()), first, 'a retried activity gets the stored record');
    assert.equal(again.rwset.writes.length, 0, 'and writes nothing');
    assert.equal(again.event, undefined);
    assert.equal(errorOf(await h.submit(bob, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-02']))).code, 'conflict');
    assert.equal(errorOf(await h.submit(dave, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01']))).code, 'conflict', 'not another user');
  });

  test("only under a current lease of the caller: not after it expired, not under another user's", async () => {
    const h = await leasedToBob();
    assert.equal(errorOf(await h.submit(dave, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01']))).code, 'forbidden');
    h.advance(61); // the policy default is 60 s
    assert.equal(errorOf(await h.submit(bob, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01']))).code, 'forbidden');
  });

  test("not after the owner revoked the lease, nor after the dataset's deletion (a run that had not launched yet stays unlaunched)", async () => {
    const h = await leasedToBob();
    await h.ok(alice, 'ReleaseLease', 'dataset-01');
    assert.equal(errorOf(await h.submit(bob, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01']))).code, 'forbidden');
    await h.ok(bob, 'TakeLease', 'dataset-01', '0');
    await h.ok(alice, 'DeleteDataset', 'dataset-01');
    assert.equal(errorOf(await h.submit(bob, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01']))).code, 'gone');
  });
});

describe('the workflow record state machine: launched -> finished -> cleaned up', () => {
  test('cleanup before the finish is refused, a finish after the cleanup only repeats the stored one', async () => {
    const h = await leasedToBob();
    await h.ok(bob, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01']));
    const early = errorOf(await h.submit(bob, 'RecordWorkflowCleanedUp', 'wf-1'));
    assert.equal(early.code, 'conflict');
    assert.match(early.message, /has not finished/);
    h.advance(1);
    const finished = await h.ok<WorkflowRecord>(bob, 'RecordWorkflowFinished', finish('wf-1'));
    h.advance(1);
    const cleaned = await h.ok<WorkflowRecord>(bob, 'RecordWorkflowCleanedUp', 'wf-1');
    h.advance(1);
    const repeat = await h.submit(bob, 'RecordWorkflowFinished', finish('wf-1'));
    assert.deepEqual(JSON.parse(repeat.payload.toString()), cleaned, 'the stored record, cleanup included');
    assert.equal(repeat.rwset.writes.length, 0);
    assert.equal(cleaned.finishedAt, finished.finishedAt);
    const other = JSON.stringify({ workflowId: 'wf-1', status: 'Failed', jobs: [] });
    assert.equal(errorOf(await h.submit(bob, 'RecordWorkflowFinished', other)).code, 'conflict');
    assert.equal((await h.submit(bob, 'RecordWorkflowCleanedUp', 'wf-1')).rwset.writes.length, 0);
  });
});

describe('RecordWorkflowFinished and RecordWorkflowCleanedUp', () => {
  test('record the outcome and the cleanup; repeating the same is a no-op', async () => {
    const h = await leasedToBob();
    await h.ok(bob, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01']));
    h.advance(5);
    const done = await h.submit(dave, 'RecordWorkflowFinished', finish('wf-1'));
    const wf = JSON.parse(done.payload.toString()) as WorkflowRecord;
    assert.equal(wf.status, 'Succeeded');
    assert.equal(wf.finishedAt, '2026-01-01T00:00:05.000Z');
    assert.equal(wf.jobs?.length, 2);
    assert.equal(done.event?.name, 'WorkflowFinished');
    const repeat = await h.submit(bob, 'RecordWorkflowFinished', finish('wf-1'));
    assert.equal(repeat.status, 200);
    assert.equal(repeat.rwset.writes.length, 0);
    assert.equal(errorOf(await h.submit(bob, 'RecordWorkflowFinished', finish('wf-1', 'Failed'))).code, 'conflict');

    h.advance(1);
    const cleaned = await h.submit(bob, 'RecordWorkflowCleanedUp', 'wf-1');
    assert.equal((JSON.parse(cleaned.payload.toString()) as WorkflowRecord).cleanedUpAt, '2026-01-01T00:00:06.000Z');
    assert.equal(cleaned.event?.name, 'WorkflowCleanedUp');
    assert.equal((await h.submit(bob, 'RecordWorkflowCleanedUp', 'wf-1')).rwset.writes.length, 0);
  });

  test('only the launcher org records them; unknown workflows are not_found', async () => {
    const h = await leasedToBob();
    await h.ok(bob, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01']));
    assert.equal(errorOf(await h.submit(alice, 'RecordWorkflowFinished', finish('wf-1'))).code, 'forbidden');
    assert.equal(errorOf(await h.submit(alice, 'RecordWorkflowCleanedUp', 'wf-1')).code, 'forbidden');
    assert.equal(errorOf(await h.submit(bob, 'RecordWorkflowFinished', finish('wf-2'))).code, 'not_found');
    assert.equal(errorOf(await h.submit(bob, 'RecordWorkflowCleanedUp', 'wf-2')).code, 'not_found');
    assert.equal(
      errorOf(await h.submit(bob, 'RecordWorkflowFinished', JSON.stringify({ workflowId: 'wf-1', status: 'Running', jobs: [] }))).code,
      'validation_failed',
    );
  });
});

describe('DatasetHistory', () => {
  test('lists every change of the dataset, its lease and its workflows, oldest first', async () => {
    const h = new LedgerHarness();
    await h.ok(alice, 'RegisterDataset', newDataset('dataset-01', noApproval));
    await h.ok(alice, 'RegisterDataset', newDataset('dataset-02', noApproval));
    h.advance(1);
    await h.ok(alice, 'UpdateDataset', 'dataset-01', JSON.stringify({ description: 'v2' }));
    h.advance(1);
    await h.ok(bob, 'TakeLease', 'dataset-01', '10');
    await h.ok(bob, 'TakeLease', 'dataset-02', '10');
    await h.ok(bob, 'RecordWorkflowLaunched', JSON.stringify({ workflowId: 'wf-1', datasetIds: ['dataset-01'], specHash: SPEC }));
    await h.ok(bob, 'RecordWorkflowFinished', finish('wf-1'));
    await h.ok(bob, 'RecordWorkflowCleanedUp', 'wf-1');
    await h.ok(bob, 'ReleaseLease', 'dataset-01');
    await h.ok(dave, 'TakeLease', 'dataset-01', '10');
    h.advance(10);
    await h.ok(platform, 'ExpireLeases');
    await h.ok(alice, 'DeleteDataset', 'dataset-01');

    const history = await h.query<HistoryEntry[]>(dave, 'DatasetHistory', 'dataset-01');
    assert.deepEqual(
      history.map((e) => `${e.action}:${e.by.user}`),
      [
        'registered:alice',
        'updated:alice',
        'leased:bob',
        'workflow-launched:bob',
        'workflow-finished:bob',
        'workflow-cleaned-up:bob',
        'released:bob',
        'leased:dave',
        'expired:ledgerflow',
        'deleted:alice',
      ],
    );
    const txIds = history.map((e) => e.txId);
    assert.deepEqual([...txIds].sort(), txIds, 'the harness numbers transactions in commit order');
    assert.equal(history[0].timestamp, '2026-01-01T00:00:00.000Z');
    assert.equal(history.at(-1)?.timestamp, '2026-01-01T00:00:12.000Z');
    assert.equal((history[1].value as { description: string }).description, 'v2');
    assert.equal((history.at(-1)?.value as { sealedLocation: string }).sealedLocation, '');
    const other = await h.query<HistoryEntry[]>(dave, 'DatasetHistory', 'dataset-02');
    assert.deepEqual(
      other.map((e) => e.action),
      ['registered', 'leased', 'expired'],
    );
    assert.equal(errorOf(await h.evaluate(dave, 'DatasetHistory', 'dataset-03')).code, 'not_found');
  });
});

describe('WorkflowTrail', () => {
  test("lists every write of the run's keys and of its leases over the run's span, oldest first", async () => {
    const h = new LedgerHarness();
    await h.ok(alice, 'RegisterDataset', newDataset('dataset-01', noApproval));
    await h.ok(dave, 'TakeLease', 'dataset-01', '5');
    h.advance(10); // dave's lease ended before the run: not the run's
    await h.ok(bob, 'TakeLease', 'dataset-01', '0');
    h.advance(1);
    await h.ok(bob, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01']));
    h.advance(1);
    await h.ok(bob, 'RecordWorkflowFinished', JSON.stringify({ workflowId: 'wf-1', status: 'Succeeded', jobs: [] }));
    h.advance(1);
    await h.ok(bob, 'RecordWorkflowCleanedUp', 'wf-1');
    h.advance(1);
    await h.ok(bob, 'ReleaseLease', 'dataset-01'); // after the cleanup: outside the span
    const trail = await h.query<TrailEntry[]>(dave, 'WorkflowTrail', 'wf-1');
    const shape = trail.map((e) => {
      const value = e.value === '' ? undefined : (JSON.parse(e.value) as { status?: string; holder?: { user: string } });
      return `${e.key.split('\u0000')[1]}:${e.isDelete ? 'delete' : (value?.status ?? value?.holder?.user)}`;
    });
    assert.deepEqual(shape, ['lease:bob', 'workflow:Running', 'workflow:Succeeded', 'workflow:Succeeded']);
    assert.ok(JSON.parse(trail.at(-1)!.value).cleanedUpAt);
    assert.deepEqual(await h.query(dave, 'WorkflowTrail', 'wf-unknown'), []);
  });
});

test('a launch records the backend and the images it ran, and refuses a malformed backend', async () => {
  const h = await leasedToBob();
  const images = ['python:3.12-slim', 'r-base:4'];
  const wf = await h.ok<WorkflowRecord>(
    bob,
    'RecordWorkflowLaunched',
    JSON.stringify({ ...JSON.parse(launch('wf-1', ['dataset-01'])), backend: 'kubernetes', images }),
  );
  assert.equal(wf.backend, 'kubernetes');
  assert.deepEqual(wf.images, images);
  const bad = await h.submit(bob, 'RecordWorkflowLaunched', JSON.stringify({ ...JSON.parse(launch('wf-2', ['dataset-02'])), backend: 'Kube rnetes!' }));
  assert.equal(errorOf(bad).code, 'validation_failed');
});
