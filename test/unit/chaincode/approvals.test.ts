import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApprovalRecord, HistoryEntry } from '@ledgerflow/chaincode';
import { createIdentity, type TestIdentity } from '../../helpers/identities';
import { errorOf, LedgerHarness, newDataset } from '../../helpers/ledgerHarness';

/** Owner consent: requests, decisions, reuse, and the launch rule the chaincode enforces. */

let alice: TestIdentity; // uis, owner of dataset-01
let carol: TestIdentity; // uis
let erin: TestIdentity; // uib, owner of dataset-02
let bob: TestIdentity; // ntnu, lessee
let dave: TestIdentity; // ntnu
const SPEC = 'a'.repeat(64);
const FILES = 'f'.repeat(64);
const OTHER = 'e'.repeat(64);

before(async () => {
  [alice, carol, erin, bob, dave] = await Promise.all([
    createIdentity('alice', 'uis'),
    createIdentity('carol', 'uis'),
    createIdentity('erin', 'uib'),
    createIdentity('bob', 'ntnu'),
    createIdentity('dave', 'ntnu'),
  ]);
});

async function leasedToBob(): Promise<LedgerHarness> {
  const h = new LedgerHarness();
  await h.ok(alice, 'RegisterDataset', newDataset('dataset-01'));
  await h.ok(erin, 'RegisterDataset', newDataset('dataset-02'));
  await h.ok(bob, 'TakeLease', 'dataset-01', '0');
  await h.ok(bob, 'TakeLease', 'dataset-02', '0');
  return h;
}

const request = (workflowId: string, datasetIds: string[], specHash = SPEC, filesHash = FILES) =>
  JSON.stringify({ workflowId, datasetIds, specHash, filesHash });
const launch = (workflowId: string, datasetIds: string[], specHash = SPEC, filesHash: string | null = FILES) =>
  JSON.stringify({ workflowId, datasetIds, specHash, ...(filesHash === null ? {} : { filesHash }) });
const approve = (extra: Record<string, unknown> = {}) => JSON.stringify({ decision: 'approve', ...extra });
const reject = (reason: string) => JSON.stringify({ decision: 'reject', reason });

describe('the launch rule', () => {
  test("a launch on another organization's dataset without an approval is refused", async () => {
    const h = await leasedToBob();
    const err = errorOf(await h.submit(bob, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01'])));
    assert.equal(err.code, 'forbidden');
    assert.match(err.message, /approval/);
    // Nor does a pending request count, nor a launch that names no files hash.
    await h.ok(bob, 'RequestApprovals', request('wf-1', ['dataset-01']));
    assert.equal(errorOf(await h.submit(bob, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01']))).code, 'forbidden');
    await h.ok(alice, 'DecideApprovals', 'wf-1', approve());
    assert.equal(errorOf(await h.submit(bob, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01'], SPEC, null))).code, 'forbidden');
    await h.ok(bob, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01']));
  });

  test("every dataset needs its own owner's approval", async () => {
    const h = await leasedToBob();
    const records = await h.ok<ApprovalRecord[]>(bob, 'RequestApprovals', request('wf-1', ['dataset-01', 'dataset-02']));
    assert.deepEqual(
      records.map((r) => [r.datasetId, r.owner.org, r.state]),
      [
        ['dataset-01', 'uis', 'pending'],
        ['dataset-02', 'uib', 'pending'],
      ],
    );
    await h.ok(alice, 'DecideApprovals', 'wf-1', approve());
    assert.equal(errorOf(await h.submit(bob, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01', 'dataset-02']))).code, 'forbidden');
    await h.ok(erin, 'DecideApprovals', 'wf-1', approve());
    await h.ok(bob, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01', 'dataset-02']));
  });

  test('changed code or spec needs a new approval', async () => {
    const h = await leasedToBob();
    await h.ok(bob, 'RequestApprovals', request('wf-1', ['dataset-01']));
    await h.ok(alice, 'DecideApprovals', 'wf-1', approve());
    assert.equal(errorOf(await h.submit(bob, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01'], SPEC, OTHER))).code, 'forbidden');
    assert.equal(errorOf(await h.submit(bob, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01'], OTHER, FILES))).code, 'forbidden');
    // Asking again for the same run with other hashes is a conflict, not a silent re-approval.
    assert.equal(errorOf(await h.submit(bob, 'RequestApprovals', request('wf-1', ['dataset-01'], SPEC, OTHER))).code, 'conflict');
  });

  test('an approval binds the holder and the lease', async () => {
    const h = await leasedToBob();
    await h.ok(bob, 'RequestApprovals', request('wf-1', ['dataset-01']));
    await h.ok(alice, 'DecideApprovals', 'wf-1', approve());
    // Same organization, another user: not the holder.
    assert.equal(errorOf(await h.submit(dave, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01']))).code, 'forbidden');
    // A new lease by the same holder is another lease.
    await h.ok(bob, 'ReleaseLease', 'dataset-01');
    h.advance(1);
    await h.ok(bob, 'TakeLease', 'dataset-01', '0');
    assert.equal(errorOf(await h.submit(bob, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01']))).code, 'forbidden');
  });

  test('own datasets and datasets with approval "none" need no approval', async () => {
    const h = new LedgerHarness();
    await h.ok(alice, 'RegisterDataset', newDataset('dataset-01'));
    await h.ok(alice, 'RegisterDataset', newDataset('dataset-02', { policy: { leaseTtlSeconds: 60, maxLeaseTtlSeconds: 600, approval: 'none' } }));
    await h.ok(carol, 'TakeLease', 'dataset-01', '0');
    await h.ok(bob, 'TakeLease', 'dataset-02', '0');
    assert.deepEqual(await h.ok(carol, 'RequestApprovals', request('wf-1', ['dataset-01'])), []);
    assert.deepEqual(await h.ok(bob, 'RequestApprovals', request('wf-2', ['dataset-02'])), []);
    await h.ok(carol, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01']));
    await h.ok(bob, 'RecordWorkflowLaunched', launch('wf-2', ['dataset-02']));
  });

  test('a dataset recorded before the policy existed reads as approval required', async () => {
    const h = await leasedToBob();
    // newDataset's policy has no approval field, like every dataset of an older ledger.
    await h.ok(alice, 'UpdateDataset', 'dataset-01', JSON.stringify({ policy: { leaseTtlSeconds: 60, maxLeaseTtlSeconds: 600 } }));
    assert.equal(errorOf(await h.submit(bob, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01']))).code, 'forbidden');
  });
});

describe('decisions', () => {
  test('only a member of the owner organization decides; the requester cannot', async () => {
    const h = await leasedToBob();
    await h.ok(bob, 'RequestApprovals', request('wf-1', ['dataset-01']));
    assert.equal(errorOf(await h.submit(bob, 'DecideApprovals', 'wf-1', approve())).code, 'forbidden');
    assert.equal(errorOf(await h.submit(erin, 'DecideApprovals', 'wf-1', approve())).code, 'forbidden');
    assert.equal(errorOf(await h.submit(alice, 'DecideApprovals', 'wf-9', approve())).code, 'not_found');
    const decided = await h.ok<ApprovalRecord[]>(carol, 'DecideApprovals', 'wf-1', approve({ comment: 'fine' }));
    assert.equal(decided[0]?.state, 'approved');
    assert.deepEqual(decided[0]?.decidedBy, { user: 'carol', org: 'uis', mspId: 'UisMSP' });
    assert.equal(decided[0]?.comment, 'fine');
  });

  test('a decided request cannot be decided again (approve or reject)', async () => {
    const h = await leasedToBob();
    await h.ok(bob, 'RequestApprovals', request('wf-1', ['dataset-01']));
    await h.ok(alice, 'DecideApprovals', 'wf-1', reject('reads everything'));
    assert.equal(errorOf(await h.submit(alice, 'DecideApprovals', 'wf-1', approve())).code, 'conflict');
    assert.equal(errorOf(await h.submit(carol, 'DecideApprovals', 'wf-1', reject('again'))).code, 'conflict');
    assert.equal(errorOf(await h.submit(bob, 'RecordWorkflowLaunched', launch('wf-1', ['dataset-01']))).code, 'forbidden');
    const [record] = await h.query<ApprovalRecord[]>(bob, 'ReadApprovals', 'wf-1');
    assert.equal(record?.state, 'rejected');
    assert.equal(record?.reason, 'reads everything');
  });

  test('a rejection needs a reason of at most 1000 characters', async () => {
    const h = await leasedToBob();
    await h.ok(bob, 'RequestApprovals', request('wf-1', ['dataset-01']));
    for (const bad of [JSON.stringify({ decision: 'reject' }), reject(''), reject('x'.repeat(1001)), JSON.stringify({ decision: 'maybe' })]) {
      assert.equal(errorOf(await h.submit(alice, 'DecideApprovals', 'wf-1', bad)).code, 'validation_failed', bad);
    }
  });

  test('only the lease holder may request', async () => {
    const h = await leasedToBob();
    assert.equal(errorOf(await h.submit(dave, 'RequestApprovals', request('wf-1', ['dataset-01']))).code, 'forbidden');
    // Asking twice with the same hashes returns the recorded request (activities retry).
    const first = await h.ok<ApprovalRecord[]>(bob, 'RequestApprovals', request('wf-1', ['dataset-01']));
    h.advance(2);
    assert.deepEqual(await h.ok(bob, 'RequestApprovals', request('wf-1', ['dataset-01'])), first);
  });
});

describe('reuse', () => {
  async function approvedWithReuse(): Promise<LedgerHarness> {
    const h = await leasedToBob();
    await h.ok(bob, 'RequestApprovals', request('wf-1', ['dataset-01']));
    await h.ok(alice, 'DecideApprovals', 'wf-1', approve({ reuse: true }));
    return h;
  }

  test('a later run with the same hashes, holder and lease is approved at request, recorded as such', async () => {
    const h = await approvedWithReuse();
    const [record] = await h.ok<ApprovalRecord[]>(bob, 'RequestApprovals', request('wf-2', ['dataset-01']));
    assert.equal(record?.state, 'approved');
    assert.equal(record?.reusedFrom, 'wf-1');
    assert.equal(record?.reuse, true);
    await h.ok(bob, 'RecordWorkflowLaunched', launch('wf-2', ['dataset-01']));
  });

  test('reuse does not cover other hashes, another holder or another lease', async () => {
    const h = await approvedWithReuse();
    const [changed] = await h.ok<ApprovalRecord[]>(bob, 'RequestApprovals', request('wf-2', ['dataset-01'], SPEC, OTHER));
    assert.equal(changed?.state, 'pending');
    assert.equal(errorOf(await h.submit(bob, 'RecordWorkflowLaunched', launch('wf-3', ['dataset-01'], OTHER, FILES))).code, 'forbidden');
    assert.equal(errorOf(await h.submit(dave, 'RecordWorkflowLaunched', launch('wf-4', ['dataset-01']))).code, 'forbidden');
    await h.ok(bob, 'ReleaseLease', 'dataset-01');
    h.advance(1);
    await h.ok(bob, 'TakeLease', 'dataset-01', '0');
    const [newLease] = await h.ok<ApprovalRecord[]>(bob, 'RequestApprovals', request('wf-5', ['dataset-01']));
    assert.equal(newLease?.state, 'pending');
    assert.equal(errorOf(await h.submit(bob, 'RecordWorkflowLaunched', launch('wf-6', ['dataset-01']))).code, 'forbidden');
  });

  test('without reuse, a second run asks again', async () => {
    const h = await leasedToBob();
    await h.ok(bob, 'RequestApprovals', request('wf-1', ['dataset-01']));
    await h.ok(alice, 'DecideApprovals', 'wf-1', approve());
    const [again] = await h.ok<ApprovalRecord[]>(bob, 'RequestApprovals', request('wf-2', ['dataset-01']));
    assert.equal(again?.state, 'pending');
  });
});

describe('listing and history', () => {
  test("ListApprovals shows the caller organization's requests, newest first, by state", async () => {
    const h = await leasedToBob();
    await h.ok(bob, 'RequestApprovals', request('wf-1', ['dataset-01', 'dataset-02']));
    h.advance(1);
    await h.ok(bob, 'RequestApprovals', request('wf-2', ['dataset-01'], OTHER));
    await h.ok(alice, 'DecideApprovals', 'wf-2', approve());
    const all = await h.query<ApprovalRecord[]>(carol, 'ListApprovals', '{}');
    assert.deepEqual(
      all.map((r) => `${r.workflowId}:${r.datasetId}:${r.state}`),
      ['wf-2:dataset-01:approved', 'wf-1:dataset-01:pending'],
    );
    const pending = await h.query<ApprovalRecord[]>(erin, 'ListApprovals', JSON.stringify({ state: 'pending' }));
    assert.deepEqual(
      pending.map((r) => r.datasetId),
      ['dataset-02'],
    );
    assert.deepEqual(await h.query(bob, 'ListApprovals', '{}'), []);
  });

  test('the dataset history shows the request and the decision with who, hashes and reuse', async () => {
    const h = await leasedToBob();
    await h.ok(bob, 'RequestApprovals', request('wf-1', ['dataset-01']));
    h.advance(1);
    await h.ok(alice, 'DecideApprovals', 'wf-1', approve({ reuse: true }));
    await h.ok(bob, 'RequestApprovals', request('wf-2', ['dataset-01', 'dataset-02']));
    await h.ok(erin, 'DecideApprovals', 'wf-2', reject('no'));
    const history = await h.query<HistoryEntry[]>(dave, 'DatasetHistory', 'dataset-01');
    assert.deepEqual(history.map((e) => `${e.action}:${e.by.user}`).slice(-3), ['approval-requested:bob', 'approved:alice', 'approval-requested:bob']);
    const approved = history.find((e) => e.action === 'approved')!.value as ApprovalRecord;
    assert.deepEqual([approved.specHash, approved.filesHash, approved.reuse], [SPEC, FILES, true]);
    assert.equal((history.at(-1)!.value as ApprovalRecord).reusedFrom, 'wf-1');
    const other = await h.query<HistoryEntry[]>(dave, 'DatasetHistory', 'dataset-02');
    assert.equal(other.at(-1)?.action, 'rejected');
    assert.equal((other.at(-1)!.value as ApprovalRecord).reason, 'no');
  });
});
