import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LeaseRecord } from '@ledgerflow/chaincode';
import { createIdentity, createPlatformIdentity, type TestIdentity } from '../../helpers/identities';
import { errorOf, LedgerHarness, newDataset } from '../../helpers/ledgerHarness';

let alice: TestIdentity; // uis, owner
let carol: TestIdentity; // uis
let bob: TestIdentity; // ntnu
let dave: TestIdentity; // ntnu
let platform: TestIdentity; // uis, with the platform role

before(async () => {
  [alice, carol, bob, dave, platform] = await Promise.all([
    createIdentity('alice', 'uis'),
    createIdentity('carol', 'uis'),
    createIdentity('bob', 'ntnu'),
    createIdentity('dave', 'ntnu'),
    createPlatformIdentity(),
  ]);
});

async function withDataset(): Promise<LedgerHarness> {
  const h = new LedgerHarness();
  await h.ok(alice, 'RegisterDataset', newDataset('dataset-01'));
  return h;
}

describe('TakeLease', () => {
  test('takes a free dataset for the policy default, timed by the tx timestamp', async () => {
    const h = await withDataset();
    h.advance(10);
    const out = await h.submit(bob, 'TakeLease', 'dataset-01', '0');
    const lease = JSON.parse(out.payload.toString()) as LeaseRecord;
    assert.deepEqual(lease, {
      datasetId: 'dataset-01',
      holder: { user: 'bob', org: 'ntnu', mspId: 'NtnuMSP' },
      takenAt: '2026-01-01T00:00:10.000Z',
      expiresAt: '2026-01-01T00:01:10.000Z',
    });
    assert.equal(out.event?.name, 'LeaseTaken');
    assert.deepEqual(JSON.parse(out.event!.payload.toString()), lease);
    assert.deepEqual(await h.query(dave, 'ReadLease', 'dataset-01'), lease);
  });

  test('an empty ttl also means the default; a ttl up to the policy maximum is honoured', async () => {
    const h = await withDataset();
    assert.equal((await h.ok<LeaseRecord>(bob, 'TakeLease', 'dataset-01', '')).expiresAt, '2026-01-01T00:01:00.000Z');
    await h.ok(bob, 'ReleaseLease', 'dataset-01');
    assert.equal((await h.ok<LeaseRecord>(bob, 'TakeLease', 'dataset-01', '600')).expiresAt, '2026-01-01T00:10:00.000Z');
  });

  test('refuses a ttl above the policy maximum, or not a number', async () => {
    const h = await withDataset();
    const err = errorOf(await h.submit(bob, 'TakeLease', 'dataset-01', '601'));
    assert.equal(err.code, 'validation_failed');
    assert.deepEqual(err.data, { maxLeaseTtlSeconds: 600 });
    assert.equal(errorOf(await h.submit(bob, 'TakeLease', 'dataset-01', '-1')).code, 'validation_failed');
    assert.equal(errorOf(await h.submit(bob, 'TakeLease', 'dataset-01', '1.5')).code, 'validation_failed');
  });

  test('a held lease is lease_held with holder and expiry, for anyone, until it expires', async () => {
    const h = await withDataset();
    await h.ok(bob, 'TakeLease', 'dataset-01', '30');
    h.advance(29);
    for (const who of [dave, alice, bob]) {
      const err = errorOf(await h.submit(who, 'TakeLease', 'dataset-01', '0'));
      assert.equal(err.code, 'lease_held');
      assert.match(err.message, /is leased by bob@ntnu until 2026-01-01T00:00:30.000Z/);
      assert.deepEqual(err.data, { holder: { user: 'bob', org: 'ntnu', mspId: 'NtnuMSP' }, expiresAt: '2026-01-01T00:00:30.000Z' });
    }
    h.advance(1); // expiresAt is exclusive: at 00:00:30 the lease is over
    assert.equal((await h.ok<LeaseRecord>(dave, 'TakeLease', 'dataset-01', '0')).holder.user, 'dave');
  });

  test('unknown dataset is not_found', async () => {
    const h = await withDataset();
    assert.equal(errorOf(await h.submit(bob, 'TakeLease', 'dataset-02', '0')).code, 'not_found');
  });

  test('two racing takes on the same snapshot: exactly one commits, the other fails MVCC', async () => {
    const h = await withDataset();
    const snapshot = h.ledger.snapshot();
    const [first, second] = await Promise.all([
      h.simulate(bob, 'TakeLease', ['dataset-01', '0'], snapshot),
      h.simulate(dave, 'TakeLease', ['dataset-01', '0'], snapshot),
    ]);
    assert.equal(first.status, 200);
    assert.equal(second.status, 200, 'both endorse: neither saw the other');
    const codes = h.ledger.commitBlock([
      { txId: first.txId, timestamp: h.now, rwset: first.rwset },
      { txId: second.txId, timestamp: h.now, rwset: second.rwset },
    ]);
    assert.deepEqual(codes, ['VALID', 'MVCC_READ_CONFLICT']);
    assert.equal((await h.query<LeaseRecord>(alice, 'ReadLease', 'dataset-01')).holder.user, 'bob');
  });

  test('racing takes of an expired lease also conflict (the lease key was read at its old version)', async () => {
    const h = await withDataset();
    await h.ok(bob, 'TakeLease', 'dataset-01', '10');
    h.advance(60);
    const snapshot = h.ledger.snapshot();
    const a = await h.simulate(dave, 'TakeLease', ['dataset-01', '0'], snapshot);
    const b = await h.simulate(carol, 'TakeLease', ['dataset-01', '0'], snapshot);
    assert.equal(h.ledger.commit({ txId: a.txId, timestamp: h.now, rwset: a.rwset }), 'VALID');
    assert.equal(h.ledger.commit({ txId: b.txId, timestamp: h.now, rwset: b.rwset }), 'MVCC_READ_CONFLICT');
  });
});

describe('ReleaseLease', () => {
  test('the holder releases; the lease is gone and an event records it', async () => {
    const h = await withDataset();
    await h.ok(bob, 'TakeLease', 'dataset-01', '0');
    const out = await h.submit(bob, 'ReleaseLease', 'dataset-01');
    assert.equal(out.status, 200);
    assert.equal(out.payload.toString(), '');
    assert.equal(out.event?.name, 'LeaseReleased');
    assert.equal(await h.query(bob, 'ReadLease', 'dataset-01'), undefined);
  });

  test('the event says whether the holder or the owner released the lease', async () => {
    const h = await withDataset();
    await h.ok(bob, 'TakeLease', 'dataset-01', '0');
    const byOwner = await h.submit(carol, 'ReleaseLease', 'dataset-01');
    assert.equal(byOwner.status, 200);
    const ownerEvent = JSON.parse(Buffer.from(byOwner.event!.payload).toString('utf8'));
    assert.equal(ownerEvent.releasedAs, 'owner');
    assert.equal(ownerEvent.releasedBy.user, 'carol');
    assert.equal(ownerEvent.holder.user, 'bob');
    await h.ok(bob, 'TakeLease', 'dataset-01', '0');
    const byHolder = await h.submit(bob, 'ReleaseLease', 'dataset-01');
    assert.equal(JSON.parse(Buffer.from(byHolder.event!.payload).toString('utf8')).releasedAs, 'holder');
  });

  test('any member of the owner org may release; another user of the holder org may not', async () => {
    const h = await withDataset();
    await h.ok(bob, 'TakeLease', 'dataset-01', '0');
    assert.equal(errorOf(await h.submit(dave, 'ReleaseLease', 'dataset-01')).code, 'forbidden');
    await h.ok(carol, 'ReleaseLease', 'dataset-01');
  });

  test('no lease, or an expired one, is not_found', async () => {
    const h = await withDataset();
    assert.equal(errorOf(await h.submit(bob, 'ReleaseLease', 'dataset-01')).code, 'not_found');
    await h.ok(bob, 'TakeLease', 'dataset-01', '10');
    h.advance(10);
    assert.equal(errorOf(await h.submit(bob, 'ReleaseLease', 'dataset-01')).code, 'not_found');
  });
});

describe('ReadLease', () => {
  test('empty when none or expired', async () => {
    const h = await withDataset();
    assert.equal((await h.evaluate(bob, 'ReadLease', 'dataset-01')).payload.length, 0);
    await h.ok(bob, 'TakeLease', 'dataset-01', '10');
    h.advance(10);
    const out = await h.evaluate(bob, 'ReadLease', 'dataset-01');
    assert.equal(out.status, 200);
    assert.equal(out.payload.length, 0);
  });
});

describe('ExpireLeases', () => {
  test('removes exactly the leases expired at the tx timestamp, with one event listing them', async () => {
    const h = new LedgerHarness();
    for (const id of ['dataset-01', 'dataset-02', 'dataset-03']) await h.ok(alice, 'RegisterDataset', newDataset(id));
    await h.ok(bob, 'TakeLease', 'dataset-01', '10');
    await h.ok(dave, 'TakeLease', 'dataset-02', '100');
    await h.ok(carol, 'TakeLease', 'dataset-03', '20');
    h.advance(20);
    const out = await h.submit(platform, 'ExpireLeases');
    assert.equal(out.validation, 'VALID');
    const expired = JSON.parse(out.payload.toString()) as LeaseRecord[];
    assert.deepEqual(
      expired.map((l) => l.datasetId),
      ['dataset-01', 'dataset-03'],
    );
    assert.equal(out.event?.name, 'LeasesExpired');
    assert.deepEqual(JSON.parse(out.event!.payload.toString()), { leases: expired });
    assert.equal((await h.query<LeaseRecord>(alice, 'ReadLease', 'dataset-02')).holder.user, 'dave');
    const again = await h.submit(platform, 'ExpireLeases');
    assert.deepEqual(JSON.parse(again.payload.toString()), []);
    assert.equal(again.event, undefined, 'nothing changed, nothing to announce');
    assert.equal(again.rwset.writes.length, 0);
  });

  test('a lease taken after its scan makes it fail as a phantom read', async () => {
    const h = new LedgerHarness();
    for (const id of ['dataset-01', 'dataset-02']) await h.ok(alice, 'RegisterDataset', newDataset(id));
    await h.ok(bob, 'TakeLease', 'dataset-01', '10');
    h.advance(10);
    const expire = await h.simulate(platform, 'ExpireLeases', []);
    await h.ok(dave, 'TakeLease', 'dataset-02', '0');
    assert.equal(h.ledger.commit({ txId: expire.txId, timestamp: h.now, rwset: expire.rwset }), 'PHANTOM_READ_CONFLICT');
  });
});
