import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { HistoryEntry, LeaseRecord, WorkflowRecord } from '@ledgerflow/chaincode';
import { PLATFORM_ATTRIBUTES } from '../../src/ledger-peer/localCa';
import { newDataset, startPeerFixture, type PeerFixture } from '../integration/ledger/peerFixture';
import { DishonestClient, type Outcome } from './dishonestClient';

/**
 * A dishonest member organization (uio) drives the embedded peer with its own identity
 * through @hyperledger/fabric-gateway, forging the proposal timestamp (future, past,
 * absent) and passing hostile arguments. Every forged case of issue #23 is refused, and in
 * each test an honest call of the same shape succeeds, so a refusal proves the guard and
 * not a broken harness.
 */

let f: PeerFixture;
let mallory: DishonestClient; // uio, the dishonest member
let carol: DishonestClient; // uis, a user of the platform's organization without its role
let alice: DishonestClient; // uis, owner of the datasets
let platform: DishonestClient; // uis, ledgerflow.role=platform

before(async () => {
  f = await startPeerFixture();
  const { endpoint, mspDir } = f.peer;
  [mallory, carol, alice, platform] = await Promise.all([
    DishonestClient.connect(endpoint, mspDir, 'uio', 'mallory'),
    DishonestClient.connect(endpoint, mspDir, 'uis', 'carol'),
    DishonestClient.connect(endpoint, mspDir, 'uis', 'alice'),
    DishonestClient.connect(endpoint, mspDir, 'uis', 'ledgerflow', PLATFORM_ATTRIBUTES),
  ]);
});

after(async () => {
  for (const c of [mallory, carol, alice, platform]) c?.close();
  await f?.close();
});

const fromNow = (seconds: number) => new Date(Date.now() + seconds * 1000);
const HOUR = 3600;
const DAY = 24 * HOUR;

// The owner opts out of approving runs (issue #13): these tests are about time and
// arguments, and a lessee's launch would otherwise wait for the owner's consent.
async function register(policy: { leaseTtlSeconds: number; maxLeaseTtlSeconds: number } = { leaseTtlSeconds: 60, maxLeaseTtlSeconds: 120 }): Promise<string> {
  const dataset = newDataset({ policy: { ...policy, approval: 'none' } });
  accepted(await alice.submit('honest', 'RegisterDataset', JSON.stringify(dataset)));
  return dataset.id;
}

function accepted(out: Outcome): string {
  assert.ok(out.ok, `expected acceptance, got: ${out.text}`);
  return out.text;
}

function refusedWith(out: Outcome, code: string, pattern?: RegExp): void {
  assert.equal(out.ok, false, `expected a refusal (${code}), got: ${out.text}`);
  assert.equal(out.code, code, out.text);
  if (pattern !== undefined) assert.match(out.text, pattern);
}

async function leaseOf(id: string): Promise<LeaseRecord | undefined> {
  const text = accepted(await alice.evaluate('honest', 'ReadLease', id));
  return text === '' ? undefined : (JSON.parse(text) as LeaseRecord);
}

test('TakeLease over a lease another organization holds, dated 2 h ahead: refused; the holder keeps it', async () => {
  const id = await register();
  accepted(await carol.submit('honest', 'TakeLease', id, '120'));
  refusedWith(await mallory.submit(fromNow(2 * HOUR), 'TakeLease', id, '0'), 'validation_failed', /ahead of the endorser's clock/);
  refusedWith(await mallory.submit('honest', 'TakeLease', id, '0'), 'lease_held');
  assert.equal((await leaseOf(id))?.holder.user, 'carol');
  const free = await register();
  assert.equal((JSON.parse(accepted(await mallory.submit('honest', 'TakeLease', free, '0'))) as LeaseRecord).holder.org, 'uio');
});

test('TakeLease(ds, 120) dated a year ahead on a dataset whose maximum is 120 s: refused', async () => {
  const id = await register();
  refusedWith(await mallory.submit(fromNow(365 * DAY), 'TakeLease', id, '120'), 'validation_failed');
  assert.equal(await leaseOf(id), undefined);
  const lease = JSON.parse(accepted(await mallory.submit('honest', 'TakeLease', id, '120'))) as LeaseRecord;
  const runsFor = (Date.parse(lease.expiresAt) - Date.parse(lease.takenAt)) / 1000;
  assert.equal(runsFor, 120);
  assert.ok(Math.abs(Date.parse(lease.takenAt) - Date.now()) < 60_000, `taken now, not next year: ${lease.takenAt}`);
});

test('ExpireLeases dated 400 days ahead, or by anyone but the platform: refused; no lease ends', async () => {
  const id = await register();
  accepted(await carol.submit('honest', 'TakeLease', id, '120'));
  refusedWith(await mallory.submit(fromNow(400 * DAY), 'ExpireLeases'), 'validation_failed');
  refusedWith(await platform.submit(fromNow(400 * DAY), 'ExpireLeases'), 'validation_failed');
  refusedWith(await mallory.submit('honest', 'ExpireLeases'), 'forbidden', /ledgerflow\.role=platform/);
  refusedWith(await carol.submit('honest', 'ExpireLeases'), 'forbidden', /ledgerflow\.role=platform/);
  const expired = JSON.parse(accepted(await platform.submit('honest', 'ExpireLeases'))) as LeaseRecord[];
  assert.ok(!expired.some((l) => l.datasetId === id), 'nothing of it was due');
  assert.equal((await leaseOf(id))?.holder.user, 'carol');
  const history = JSON.parse(accepted(await alice.evaluate('honest', 'DatasetHistory', id))) as HistoryEntry[];
  for (const entry of history) assert.ok(Date.parse(entry.timestamp) < Date.now() + 60_000, `no entry from the future: ${entry.timestamp}`);
});

test('RecordWorkflowLaunched on an expired lease, dated back into it: refused; under a current lease: accepted once', async () => {
  const id = await register({ leaseTtlSeconds: 1, maxLeaseTtlSeconds: 120 });
  accepted(await mallory.submit('honest', 'TakeLease', id, '1'));
  const deadline = Date.now() + 10_000;
  while ((await leaseOf(id)) !== undefined) {
    assert.ok(Date.now() < deadline, 'the 1 s lease never expired');
    await new Promise((r) => setTimeout(r, 100));
  }
  const launch = (workflowId: string, datasetIds = [id]) => JSON.stringify({ workflowId, datasetIds, specHash: 'c'.repeat(64) });
  refusedWith(await mallory.submit(fromNow(-60), 'RecordWorkflowLaunched', launch('wf-back-60')), 'validation_failed', /behind the endorser's clock/);
  // Within the skew, but before the dataset's last committed change (the take): refused too.
  refusedWith(await mallory.submit(fromNow(-20), 'RecordWorkflowLaunched', launch('wf-back-20')), 'conflict', /earlier than the last change/);
  refusedWith(await mallory.submit('honest', 'RecordWorkflowLaunched', launch('wf-now')), 'forbidden');

  const current = await register();
  accepted(await mallory.submit('honest', 'TakeLease', current, '60'));
  const first = JSON.parse(accepted(await mallory.submit('honest', 'RecordWorkflowLaunched', launch('wf-ok', [current])))) as WorkflowRecord;
  assert.equal(first.status, 'Running');
  const again = JSON.parse(accepted(await mallory.submit('honest', 'RecordWorkflowLaunched', launch('wf-ok', [current])))) as WorkflowRecord;
  assert.deepEqual(again, first, 'a repeat returns the stored record');
});

test('RegisterDataset with no timestamp: refused (no 1970 record); queries too; with one: accepted', async () => {
  const dataset = newDataset();
  refusedWith(await alice.submit('absent', 'RegisterDataset', JSON.stringify(dataset)), 'validation_failed', /no timestamp/);
  refusedWith(await mallory.evaluate('absent', 'ListDatasets', JSON.stringify({ pageSize: 10 })), 'validation_failed', /no timestamp/);
  refusedWith(await mallory.evaluate(fromNow(400 * DAY), 'ReadLease', dataset.id), 'validation_failed');
  const stored = JSON.parse(accepted(await alice.submit('honest', 'RegisterDataset', JSON.stringify(dataset)))) as { createdAt: string };
  assert.ok(Math.abs(Date.parse(stored.createdAt) - Date.now()) < 60_000, stored.createdAt);
});

test('every transaction with hostile arguments from the dishonest member: refused; honest counterparts accepted', async () => {
  const owned = await register();
  accepted(await carol.submit('honest', 'TakeLease', owned, '120'));
  const spec = 'd'.repeat(64);
  accepted(await carol.submit('honest', 'RecordWorkflowLaunched', JSON.stringify({ workflowId: 'wf-uis', datasetIds: [owned], specHash: spec })));
  const mine = await register();
  accepted(await mallory.submit('honest', 'TakeLease', mine, '60'));
  accepted(await mallory.submit('honest', 'RecordWorkflowLaunched', JSON.stringify({ workflowId: 'wf-uio', datasetIds: [mine], specHash: spec })));

  const hostile: [string, string[], string][] = [
    ['RegisterDataset', [JSON.stringify({ ...newDataset(), owner: { user: 'alice', org: 'uis', mspId: 'UisMSP' } })], 'validation_failed'],
    ['RegisterDataset', [JSON.stringify({ ...newDataset(), createdAt: '1970-01-01T00:00:00.000Z' })], 'validation_failed'],
    ['RegisterDataset', ['{"id":'], 'validation_failed'],
    ['UpdateDataset', [owned, JSON.stringify({ name: 'mine now' })], 'forbidden'],
    ['UpdateDataset', [owned, JSON.stringify({ owner: { org: 'uio' } })], 'validation_failed'],
    ['DeleteDataset', [owned], 'forbidden'],
    ['TakeLease', [owned, '0'], 'lease_held'],
    ['TakeLease', [mine, '-1'], 'validation_failed'],
    ['TakeLease', [mine, '1e9'], 'validation_failed'],
    ['TakeLease', ['../../etc/passwd', '0'], 'validation_failed'],
    ['ReleaseLease', [owned], 'forbidden'],
    ['ExpireLeases', [], 'forbidden'],
    ['RecordWorkflowLaunched', [JSON.stringify({ workflowId: 'wf-x', datasetIds: [owned], specHash: spec })], 'forbidden'],
    ['RecordWorkflowLaunched', [JSON.stringify({ workflowId: 'wf-y', datasetIds: [], specHash: spec })], 'validation_failed'],
    ['RecordWorkflowLaunched', [JSON.stringify({ workflowId: 'wf-uis', datasetIds: [mine], specHash: spec })], 'conflict'],
    ['RecordWorkflowFinished', [JSON.stringify({ workflowId: 'wf-uis', status: 'Failed', jobs: [] })], 'forbidden'],
    ['RecordWorkflowCleanedUp', ['wf-uis'], 'forbidden'],
    ['RecordWorkflowCleanedUp', ['wf-uio'], 'conflict'],
    ['ReadDataset', ['x'], 'validation_failed'],
    ['ListDatasets', [JSON.stringify({ pageSize: 1_000_000 })], 'validation_failed'],
    ['DatasetHistory', ['dataset:../x'], 'validation_failed'],
    ['SetOwner', [owned, 'uio'], 'validation_failed'],
  ];
  for (const [fn, args, code] of hostile) refusedWith(await mallory.submit('honest', fn, ...args), code);

  accepted(await mallory.submit('honest', 'RecordWorkflowFinished', JSON.stringify({ workflowId: 'wf-uio', status: 'Succeeded', jobs: [] })));
  accepted(await mallory.submit('honest', 'RecordWorkflowCleanedUp', 'wf-uio'));
  accepted(await mallory.submit('honest', 'ReleaseLease', mine));
  assert.equal((await leaseOf(owned))?.holder.user, 'carol');
});

test('GetMetadata (fabric-contract-api system contract) describes the contract on the embedded peer', async () => {
  const metadata = JSON.parse(accepted(await mallory.evaluate('honest', 'org.hyperledger.fabric:GetMetadata'))) as {
    contracts: Record<string, { transactions: { name: string }[] }>;
  };
  const names = metadata.contracts['ledgerflow']?.transactions.map((t) => t.name) ?? [];
  for (const name of ['RegisterDataset', 'TakeLease', 'ExpireLeases', 'RecordWorkflowLaunched', 'DatasetHistory']) assert.ok(names.includes(name), name);
});
