import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DatasetRecord, Page } from '@ledgerflow/chaincode';
import { createIdentity, type TestIdentity } from '../../helpers/identities';
import { errorOf, LedgerHarness, newDataset } from '../../helpers/ledgerHarness';

let alice: TestIdentity; // uis
let carol: TestIdentity; // uis, same org as alice
let bob: TestIdentity; // ntnu

before(async () => {
  [alice, carol, bob] = await Promise.all([createIdentity('alice', 'uis'), createIdentity('carol', 'uis'), createIdentity('bob', 'ntnu')]);
});

describe('RegisterDataset', () => {
  test('records the dataset with the owner from the certificate and the tx time', async () => {
    const h = new LedgerHarness();
    const ds = await h.ok<DatasetRecord>(alice, 'RegisterDataset', newDataset('dataset-01', { sealedLocation: 'opaque:AAAA' }));
    assert.deepEqual(ds.owner, { user: 'alice', org: 'uis', mspId: 'UisMSP' });
    assert.equal(ds.createdAt, '2026-01-01T00:00:00.000Z');
    assert.equal(ds.updatedAt, ds.createdAt);
    assert.equal(ds.sealedLocation, 'opaque:AAAA', 'the sealed location is stored as given');
    assert.equal(ds.lease, undefined);
    assert.deepEqual(await h.query(bob, 'ReadDataset', 'dataset-01'), ds);
  });

  test('ignores an owner named in the request: unknown fields are refused', async () => {
    const h = new LedgerHarness();
    const err = errorOf(await h.submit(bob, 'RegisterDataset', newDataset('dataset-01', { owner: { org: 'uis' } })));
    assert.equal(err.code, 'validation_failed');
  });

  test('validates every field and lists the issues', async () => {
    const h = new LedgerHarness();
    for (const bad of [
      newDataset('short'),
      newDataset('has space in it'),
      newDataset('x'.repeat(129)),
      newDataset('dataset-01', { name: '' }),
      newDataset('dataset-01', { policy: { leaseTtlSeconds: 600, maxLeaseTtlSeconds: 60 } }),
      newDataset('dataset-01', { policy: { leaseTtlSeconds: 0, maxLeaseTtlSeconds: 60 } }),
      newDataset('dataset-01', { storageKind: 's3' }),
      newDataset('dataset-01', { sealedLocation: '' }),
      'not json',
    ]) {
      const err = errorOf(await h.submit(alice, 'RegisterDataset', bad));
      assert.equal(err.code, 'validation_failed', bad);
    }
    const err = errorOf(await h.submit(alice, 'RegisterDataset', newDataset('bad id!', { name: '' })));
    const issues = (err.data as { issues: { path: string }[] }).issues.map((i) => i.path).sort();
    assert.deepEqual(issues, ['dataset.id', 'dataset.name']);
  });

  test('rejects an id that exists, also a deleted one', async () => {
    const h = new LedgerHarness();
    await h.ok(alice, 'RegisterDataset', newDataset('dataset-01'));
    assert.equal(errorOf(await h.submit(bob, 'RegisterDataset', newDataset('dataset-01'))).code, 'conflict');
    await h.ok(alice, 'DeleteDataset', 'dataset-01');
    assert.equal(errorOf(await h.submit(alice, 'RegisterDataset', newDataset('dataset-01'))).code, 'conflict');
  });

  test('refuses a certificate whose subject has no plain CN', async () => {
    const h = new LedgerHarness();
    const crafted = await createIdentity('mallory', 'uis', 'CN=alice\\,O=uis,O=uis');
    const noCn = await createIdentity('nobody', 'uis', 'O=uis');
    assert.equal(errorOf(await h.submit(crafted, 'RegisterDataset', newDataset('dataset-01'))).code, 'forbidden');
    assert.equal(errorOf(await h.submit(noCn, 'RegisterDataset', newDataset('dataset-01'))).code, 'forbidden');
    const spaced = await createIdentity('Ada Lovelace', 'uis');
    assert.equal((await h.ok<DatasetRecord>(spaced, 'RegisterDataset', newDataset('dataset-01'))).owner.user, 'Ada Lovelace');
  });
});

describe('UpdateDatasetContent', () => {
  const content = (version: number, hash = 'a') => JSON.stringify({ version, contentHash: hash.repeat(64) });

  test('the owner org adds the next version; the audit entry is dataset-updated, the event DatasetContentUpdated', async () => {
    const h = new LedgerHarness();
    assert.equal((await h.ok<DatasetRecord>(alice, 'RegisterDataset', newDataset('dataset-01'))).version, 1);
    h.advance(5);
    const out = await h.submit(carol, 'UpdateDatasetContent', 'dataset-01', content(2));
    const updated = JSON.parse(out.payload.toString()) as DatasetRecord;
    assert.equal(updated.version, 2);
    assert.equal(updated.contentHash, 'a'.repeat(64));
    assert.equal(updated.owner.user, 'alice', 'ownership does not move to the pusher');
    assert.equal(updated.updatedAt, '2026-01-01T00:00:05.000Z');
    assert.equal(out.event?.name, 'DatasetContentUpdated');
    assert.deepEqual(JSON.parse(out.event!.payload.toString()), { contentHash: 'a'.repeat(64), datasetId: 'dataset-01', owner: updated.owner, version: 2 });
    const history = await h.query<{ action: string }[]>(bob, 'DatasetHistory', 'dataset-01');
    assert.deepEqual(
      history.map((e) => e.action),
      ['registered', 'dataset-updated'],
    );
  });

  test('another org, a version other than the next, a bad hash, a deleted dataset: refused, nothing written', async () => {
    const h = new LedgerHarness();
    await h.ok(alice, 'RegisterDataset', newDataset('dataset-01'));
    const foreign = await h.submit(bob, 'UpdateDatasetContent', 'dataset-01', content(2));
    assert.equal(errorOf(foreign).code, 'forbidden');
    assert.equal(foreign.rwset.writes.length, 0);
    assert.equal(errorOf(await h.submit(alice, 'UpdateDatasetContent', 'dataset-01', content(3))).code, 'conflict');
    assert.equal(errorOf(await h.submit(alice, 'UpdateDatasetContent', 'dataset-01', content(1))).code, 'validation_failed');
    assert.equal(
      errorOf(await h.submit(alice, 'UpdateDatasetContent', 'dataset-01', JSON.stringify({ version: 2, contentHash: 'nothex' }))).code,
      'validation_failed',
    );
    await h.ok(alice, 'UpdateDatasetContent', 'dataset-01', content(2));
    assert.equal(errorOf(await h.submit(alice, 'UpdateDatasetContent', 'dataset-01', content(2, 'b'))).code, 'conflict', 'a racing push of the same number');
    await h.ok(alice, 'DeleteDataset', 'dataset-01');
    assert.equal(errorOf(await h.submit(alice, 'UpdateDatasetContent', 'dataset-01', content(3))).code, 'gone');
  });
});

describe('UpdateDataset', () => {
  test('the owner org changes name, description and policy; updatedAt is the tx time', async () => {
    const h = new LedgerHarness();
    await h.ok(alice, 'RegisterDataset', newDataset('dataset-01'));
    h.advance(30);
    const updated = await h.ok<DatasetRecord>(
      carol,
      'UpdateDataset',
      'dataset-01',
      JSON.stringify({ name: 'renamed', policy: { leaseTtlSeconds: 10, maxLeaseTtlSeconds: 20 } }),
    );
    assert.equal(updated.name, 'renamed');
    assert.equal(updated.description, 'test data');
    assert.deepEqual(updated.policy, { leaseTtlSeconds: 10, maxLeaseTtlSeconds: 20 });
    assert.deepEqual(updated.owner.user, 'alice', 'ownership does not move to the updater');
    assert.equal(updated.updatedAt, '2026-01-01T00:00:30.000Z');
    assert.equal(updated.createdAt, '2026-01-01T00:00:00.000Z');
  });

  test('another org cannot update', async () => {
    const h = new LedgerHarness();
    await h.ok(alice, 'RegisterDataset', newDataset('dataset-01'));
    const out = await h.submit(bob, 'UpdateDataset', 'dataset-01', JSON.stringify({ name: 'mine now' }));
    assert.equal(errorOf(out).code, 'forbidden');
    assert.equal(out.rwset.writes.length, 0);
    assert.equal((await h.query<DatasetRecord>(bob, 'ReadDataset', 'dataset-01')).name, 'dataset dataset-01');
  });

  test('validates the patch; unknown, missing and deleted datasets', async () => {
    const h = new LedgerHarness();
    await h.ok(alice, 'RegisterDataset', newDataset('dataset-01'));
    assert.equal(errorOf(await h.submit(alice, 'UpdateDataset', 'dataset-01', '{}')).code, 'validation_failed');
    assert.equal(errorOf(await h.submit(alice, 'UpdateDataset', 'dataset-01', '{"owner":"x"}')).code, 'validation_failed');
    assert.equal(errorOf(await h.submit(alice, 'UpdateDataset', 'dataset-02', '{"name":"x"}')).code, 'not_found');
    await h.ok(alice, 'DeleteDataset', 'dataset-01');
    assert.equal(errorOf(await h.submit(alice, 'UpdateDataset', 'dataset-01', '{"name":"x"}')).code, 'gone');
  });
});

describe('DeleteDataset', () => {
  test('tombstones: deletedAt set, sealed location cleared, the lease ends with it', async () => {
    const h = new LedgerHarness();
    await h.ok(alice, 'RegisterDataset', newDataset('dataset-01'));
    await h.ok(bob, 'TakeLease', 'dataset-01', '0');
    h.advance(5);
    const out = await h.submit(alice, 'DeleteDataset', 'dataset-01');
    assert.equal(out.validation, 'VALID');
    const tomb = JSON.parse(out.payload.toString()) as DatasetRecord;
    assert.equal(tomb.deletedAt, '2026-01-01T00:00:05.000Z');
    assert.equal(tomb.sealedLocation, '');
    assert.equal(out.event?.name, 'DatasetDeleted');
    const event = JSON.parse(out.event!.payload.toString()) as { endedLease?: { holder: { user: string } } };
    assert.equal(event.endedLease?.holder.user, 'bob');
    assert.equal(await h.query(bob, 'ReadLease', 'dataset-01'), undefined);
    const read = await h.query<DatasetRecord>(bob, 'ReadDataset', 'dataset-01');
    assert.equal(read.deletedAt, tomb.deletedAt);
    assert.equal(read.lease, undefined);
    assert.equal(errorOf(await h.submit(alice, 'DeleteDataset', 'dataset-01')).code, 'gone');
    assert.equal(errorOf(await h.submit(bob, 'TakeLease', 'dataset-01', '0')).code, 'gone');
  });

  test('only the owner org deletes', async () => {
    const h = new LedgerHarness();
    await h.ok(alice, 'RegisterDataset', newDataset('dataset-01'));
    assert.equal(errorOf(await h.submit(bob, 'DeleteDataset', 'dataset-01')).code, 'forbidden');
    await h.ok(carol, 'DeleteDataset', 'dataset-01');
  });
});

describe('ReadDataset', () => {
  test('not_found and bad ids', async () => {
    const h = new LedgerHarness();
    assert.equal(errorOf(await h.evaluate(alice, 'ReadDataset', 'dataset-01')).code, 'not_found');
    assert.equal(errorOf(await h.evaluate(alice, 'ReadDataset', '../etc')).code, 'validation_failed');
  });

  test('shows the lease while it runs, not after it expires', async () => {
    const h = new LedgerHarness();
    await h.ok(alice, 'RegisterDataset', newDataset('dataset-01'));
    await h.ok(bob, 'TakeLease', 'dataset-01', '30');
    h.advance(29);
    assert.equal((await h.query<DatasetRecord>(alice, 'ReadDataset', 'dataset-01')).lease?.holder.user, 'bob');
    h.advance(1);
    assert.equal((await h.query<DatasetRecord>(alice, 'ReadDataset', 'dataset-01')).lease, undefined);
  });
});

describe('ListDatasets', () => {
  async function seeded(): Promise<LedgerHarness> {
    const h = new LedgerHarness();
    for (let i = 0; i < 7; i++) await h.ok(i % 2 === 0 ? alice : bob, 'RegisterDataset', newDataset(`dataset-0${i}`));
    await h.ok(alice, 'TakeLease', 'dataset-01', '0');
    await h.ok(bob, 'TakeLease', 'dataset-02', '0');
    await h.ok(alice, 'DeleteDataset', 'dataset-04');
    return h;
  }
  const list = (h: LedgerHarness, query: object) => h.query<Page<DatasetRecord>>(alice, 'ListDatasets', JSON.stringify(query));

  test('pages in id order by cursor until the last page, which has no cursor', async () => {
    const h = await seeded();
    const ids: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await list(h, { pageSize: 2, ...(cursor ? { cursor } : {}) });
      ids.push(page.items.map((d) => d.id));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    assert.deepEqual(ids, [
      ['dataset-00', 'dataset-01'],
      ['dataset-02', 'dataset-03'],
      ['dataset-05', 'dataset-06'],
    ]);
  });

  test('a page that exactly ends the range has no cursor', async () => {
    const h = await seeded();
    const page = await list(h, { pageSize: 6 });
    assert.equal(page.items.length, 6);
    assert.equal(page.nextCursor, undefined);
  });

  test('pages stay stable when datasets are added before the cursor', async () => {
    const h = await seeded();
    const first = await list(h, { pageSize: 3 });
    await h.ok(alice, 'RegisterDataset', newDataset('dataset-000'));
    const second = await list(h, { pageSize: 3, cursor: first.nextCursor });
    assert.deepEqual(
      second.items.map((d) => d.id),
      ['dataset-03', 'dataset-05', 'dataset-06'],
    );
  });

  test('filters by owner, lease state and deletion', async () => {
    const h = await seeded();
    const ids = async (q: object) => (await list(h, { pageSize: 50, ...q })).items.map((d) => d.id);
    assert.deepEqual(await ids({ owner: 'ntnu' }), ['dataset-01', 'dataset-03', 'dataset-05']);
    assert.deepEqual(await ids({ state: 'leased' }), ['dataset-01', 'dataset-02']);
    assert.deepEqual(await ids({ state: 'free', owner: 'uis' }), ['dataset-00', 'dataset-06']);
    assert.deepEqual(await ids({ includeDeleted: true, owner: 'uis' }), ['dataset-00', 'dataset-02', 'dataset-04', 'dataset-06']);
    const leased = (await list(h, { pageSize: 50, state: 'leased' })).items;
    assert.deepEqual(
      leased.map((d) => d.lease?.holder.user),
      ['alice', 'bob'],
    );
    const filteredPage = await list(h, { pageSize: 1, state: 'leased' });
    assert.deepEqual(
      filteredPage.items.map((d) => d.id),
      ['dataset-01'],
    );
    const next = await list(h, { pageSize: 1, state: 'leased', cursor: filteredPage.nextCursor });
    assert.deepEqual(
      next.items.map((d) => d.id),
      ['dataset-02'],
    );
    assert.equal(next.nextCursor, undefined);
  });

  test('rejects bad queries and cursors', async () => {
    const h = await seeded();
    for (const q of [{}, { pageSize: 0 }, { pageSize: 1001 }, { pageSize: 5, state: 'busy' }, { pageSize: 5, cursor: 'Li4vLi4v' }]) {
      assert.equal(errorOf(await h.evaluate(alice, 'ListDatasets', JSON.stringify(q))).code, 'validation_failed', JSON.stringify(q));
    }
  });

  test('is a read-only query that records its range for phantom checks', async () => {
    const h = await seeded();
    const out = await h.evaluate(alice, 'ListDatasets', JSON.stringify({ pageSize: 2 }));
    assert.equal(out.rwset.writes.length, 0);
    assert.equal(out.rwset.rangeReads.length, 1);
    assert.equal(out.rwset.rangeReads[0].exhausted, false);
  });
});
