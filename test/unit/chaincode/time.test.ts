import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { HistoryEntry, LeaseRecord } from '@ledgerflow/chaincode';
import { createIdentity, createPlatformIdentity, type TestIdentity } from '../../helpers/identities';
import { errorOf, LedgerHarness, newDataset } from '../../helpers/ledgerHarness';

/** The chaincode referees "when": the proposal timestamp is the client's choice, so each
 * endorser bounds it by its own clock and by the dataset's last committed change. */

let alice: TestIdentity; // uis, owner
let bob: TestIdentity; // ntnu
let platform: TestIdentity; // uis, ledgerflow.role=platform
let carol: TestIdentity; // uis, no role
let impostor: TestIdentity; // ntnu, claims the role's value under another attribute name

before(async () => {
  [alice, bob, platform, carol, impostor] = await Promise.all([
    createIdentity('alice', 'uis'),
    createIdentity('bob', 'ntnu'),
    createPlatformIdentity(),
    createIdentity('carol', 'uis'),
    createIdentity('ledgerflow', 'ntnu', undefined, { 'ledgerflow.rolex': 'platform', role: 'platform' }),
  ]);
});

const at = (h: LedgerHarness, seconds: number) => new Date(h.now.getTime() + seconds * 1000);

describe('the skew guard', () => {
  test('refuses a proposal dated beyond the skew either way, accepts one within it', async () => {
    const h = new LedgerHarness();
    for (const offset of [31, -31, 7200, -3600, 365 * 86400]) {
      const out = await h.submitAt(at(h, offset), alice, 'RegisterDataset', newDataset('dataset-01'));
      const error = errorOf(out);
      assert.equal(error.code, 'validation_failed', `offset ${offset}`);
      assert.match(error.message, offset > 0 ? /ahead of the endorser's clock/ : /behind the endorser's clock/);
      assert.equal(out.rwset.writes.length, 0);
    }
    const ok = await h.submitAt(at(h, 29), alice, 'RegisterDataset', newDataset('dataset-01'));
    assert.equal(ok.validation, 'VALID');
  });

  test('refuses a missing (zero) timestamp, on reads as well', async () => {
    const h = new LedgerHarness();
    await h.ok(alice, 'RegisterDataset', newDataset('dataset-01'));
    assert.match(errorOf(await h.submitAt(new Date(0), alice, 'RegisterDataset', newDataset('dataset-02'))).message, /no timestamp/);
    const read = await h.simulate(bob, 'ReadLease', ['dataset-01'], h.ledger, h.nextTxId(), at(h, 400 * 86400));
    assert.equal(errorOf(read).code, 'validation_failed');
  });

  test('LEDGER_MAX_CLOCK_SKEW_SECONDS sets the skew; a malformed value refuses everything', async (t) => {
    const h = new LedgerHarness();
    const saved = process.env['LEDGER_MAX_CLOCK_SKEW_SECONDS'];
    t.after(() => {
      if (saved === undefined) delete process.env['LEDGER_MAX_CLOCK_SKEW_SECONDS'];
      else process.env['LEDGER_MAX_CLOCK_SKEW_SECONDS'] = saved;
    });
    process.env['LEDGER_MAX_CLOCK_SKEW_SECONDS'] = '5';
    assert.equal(errorOf(await h.submitAt(at(h, 6), alice, 'RegisterDataset', newDataset('dataset-01'))).code, 'validation_failed');
    assert.equal((await h.submitAt(at(h, 5), alice, 'RegisterDataset', newDataset('dataset-01'))).validation, 'VALID');
    process.env['LEDGER_MAX_CLOCK_SKEW_SECONDS'] = 'thirty';
    assert.match(errorOf(await h.submit(alice, 'RegisterDataset', newDataset('dataset-02'))).message, /misconfigured: LEDGER_MAX_CLOCK_SKEW_SECONDS/);
  });

  test("the issue's forged takes are refused: a takeover 2 h ahead, a 120 s lease a year ahead", async () => {
    const h = new LedgerHarness();
    await h.ok(alice, 'RegisterDataset', newDataset('dataset-01', { policy: { leaseTtlSeconds: 60, maxLeaseTtlSeconds: 120 } }));
    await h.ok(alice, 'RegisterDataset', newDataset('dataset-02', { policy: { leaseTtlSeconds: 60, maxLeaseTtlSeconds: 120 } }));
    await h.ok(carol, 'TakeLease', 'dataset-01', '120');
    assert.equal(errorOf(await h.submitAt(at(h, 7200), bob, 'TakeLease', 'dataset-01', '0')).code, 'validation_failed');
    assert.equal(errorOf(await h.submitAt(at(h, 365 * 86400), bob, 'TakeLease', 'dataset-02', '120')).code, 'validation_failed');
    assert.equal((await h.query<LeaseRecord>(bob, 'ReadLease', 'dataset-01')).holder.user, 'carol');
    assert.equal(await h.query(bob, 'ReadLease', 'dataset-02'), undefined);
    const honest = await h.ok<LeaseRecord>(bob, 'TakeLease', 'dataset-02', '120');
    assert.equal(honest.expiresAt, at(h, 120).toISOString());
  });
});

describe('monotonic time per dataset', () => {
  test("a change dated before the dataset's last committed change is refused, even within the skew", async () => {
    const h = new LedgerHarness();
    await h.ok(alice, 'RegisterDataset', newDataset('dataset-01'));
    await h.ok(alice, 'RegisterDataset', newDataset('dataset-02'));
    h.advance(10);
    await h.ok(bob, 'TakeLease', 'dataset-01', '0');
    const back = at(h, -5);
    const refused = errorOf(await h.submitAt(back, bob, 'ReleaseLease', 'dataset-01'));
    assert.equal(refused.code, 'conflict');
    assert.match(refused.message, /earlier than the last change of dataset dataset-01/);
    // dataset-02's last change is older: the same backdated time is fine there.
    assert.equal((await h.submitAt(back, bob, 'TakeLease', 'dataset-02', '0')).validation, 'VALID');
    // the same second as the last change is not earlier.
    assert.equal((await h.submit(bob, 'ReleaseLease', 'dataset-01')).validation, 'VALID');
  });

  test('a launch backdated into an ended lease is refused; history stays in time order', async () => {
    const h = new LedgerHarness();
    await h.ok(alice, 'RegisterDataset', newDataset('dataset-01', { policy: { leaseTtlSeconds: 20, maxLeaseTtlSeconds: 60 } }));
    await h.ok(bob, 'TakeLease', 'dataset-01', '0');
    h.advance(25);
    await h.ok(platform, 'ExpireLeases');
    const launch = JSON.stringify({ workflowId: 'wf-1', datasetIds: ['dataset-01'], specHash: 'a'.repeat(64) });
    assert.notEqual((await h.submitAt(at(h, -10), bob, 'RecordWorkflowLaunched', launch)).status, 200);
    const history = await h.query<HistoryEntry[]>(bob, 'DatasetHistory', 'dataset-01');
    const times = history.map((e) => e.timestamp);
    assert.deepEqual(times, [...times].sort());
  });

  test('approval requests and decisions obey the same clock: a backdated decision is refused', async () => {
    const h = new LedgerHarness();
    await h.ok(alice, 'RegisterDataset', newDataset('dataset-01'));
    await h.ok(bob, 'TakeLease', 'dataset-01', '0');
    h.advance(10);
    const request = JSON.stringify({ workflowId: 'wf-1', datasetIds: ['dataset-01'], specHash: 'a'.repeat(64), filesHash: 'f'.repeat(64) });
    assert.equal(errorOf(await h.submitAt(at(h, -15), bob, 'RequestApprovals', request)).code, 'conflict');
    await h.ok(bob, 'RequestApprovals', request);
    h.advance(10);
    const decision = JSON.stringify({ decision: 'approve' });
    const refused = errorOf(await h.submitAt(at(h, -15), alice, 'DecideApprovals', 'wf-1', decision));
    assert.equal(refused.code, 'conflict');
    assert.match(refused.message, /earlier than the last change of dataset dataset-01/);
    assert.equal((await h.submit(alice, 'DecideApprovals', 'wf-1', decision)).validation, 'VALID');
  });
});

describe('roles', () => {
  test("ExpireLeases is the platform's alone: not a user of its organization, not another attribute", async () => {
    const h = new LedgerHarness();
    await h.ok(alice, 'RegisterDataset', newDataset('dataset-01', { policy: { leaseTtlSeconds: 10, maxLeaseTtlSeconds: 60 } }));
    await h.ok(bob, 'TakeLease', 'dataset-01', '0');
    h.advance(11);
    for (const who of [alice, carol, bob, impostor]) {
      const out = errorOf(await h.submit(who, 'ExpireLeases'));
      assert.equal(out.code, 'forbidden', who.user);
      assert.match(out.message, /ledgerflow\.role=platform/);
    }
    const expired = await h.ok<LeaseRecord[]>(platform, 'ExpireLeases');
    assert.deepEqual(
      expired.map((l) => l.datasetId),
      ['dataset-01'],
    );
  });

  test('the platform is still an ordinary uis user elsewhere (its role grants nothing else)', async () => {
    const h = new LedgerHarness();
    await h.ok(alice, 'RegisterDataset', newDataset('dataset-01'));
    await h.ok(bob, 'TakeLease', 'dataset-01', '0');
    // uis owns the dataset, so the platform (a uis member) may release a lease on it, like alice.
    assert.equal((await h.submit(platform, 'ReleaseLease', 'dataset-01')).validation, 'VALID');
  });
});
