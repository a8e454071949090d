import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../../bench/support/host';
import { FileKeyStores } from '../../../src/adapters/keyStore/fileKeyStore';
import { DatasetsApi, USERS } from './client';

/** The dataset and lease API end to end: the embedded host, ledger, file key store and local
 * storage, three organizations. Steps run in order on one host. */
let api: DatasetsApi;
let roots: string;

before(async () => {
  roots = await mkdtemp(join(tmpdir(), 'lf-roots-'));
  api = await DatasetsApi.start({
    LOCAL_DATASET_ROOTS: JSON.stringify({ uis: [roots], uio: [roots], uib: [roots] }),
    LEASE_EXPIRY_SCHEDULE: '*/1 * * * * *',
    LEASE_DEFAULT_TTL: '300',
  });
});
after(async () => {
  await api?.host.kill();
  await rm(roots, { recursive: true, force: true });
});

const isIso = (s: unknown) => typeof s === 'string' && !Number.isNaN(Date.parse(s));

test('datasets and leases, end to end', async (t) => {
  let id = '';
  let adoptedId = '';

  await t.test('register with uploaded files: 201 with the dataset, owner from the token', async () => {
    const r = await api.call('alice', 'POST', '/datasets', {
      name: 'patients',
      description: 'synthetic',
      policy: { leaseTtlSeconds: 120, maxLeaseTtlSeconds: 600 },
      files: { 'data/patients.csv': 'id,age\n1,40\n', 'README.md': '# patients\n' },
    });
    assert.equal(r.status, 201, r.text);
    id = r.body.id;
    assert.match(id, /^[0-9a-f]{32}$/);
    assert.deepEqual(r.body.owner, USERS.alice);
    // Consent is on unless the owner opts out: a policy without it reads as required.
    assert.deepEqual(r.body.policy, { leaseTtlSeconds: 120, maxLeaseTtlSeconds: 600, approval: 'required', results: 'release' });
    assert.equal(r.body.state, 'free');
    assert.equal(r.body.lease, null);
    assert.ok(isIso(r.body.createdAt));
    assert.equal('sealedLocation' in r.body, false);
  });

  await t.test('register by adopting a local directory under an allowed root', async () => {
    const dir = join(roots, 'survey');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir);
    await writeFile(join(dir, 'answers.csv'), 'q,a\n');
    const r = await api.call('bob', 'POST', '/datasets', { name: 'survey', source: { kind: 'local', path: dir } });
    assert.equal(r.status, 201, r.text);
    adoptedId = r.body.id;
    const outside = await api.call('bob', 'POST', '/datasets', { name: 'etc', source: { kind: 'local', path: '/etc' } });
    assert.equal(outside.status, 400);
    assert.equal(outside.body.error.details[0].path, 'source.path');
  });

  await t.test('list, filter by owner and state, page', async () => {
    const all = await api.call('carol', 'GET', '/datasets');
    assert.equal(all.status, 200);
    assert.deepEqual(new Set(all.body.items.map((d: { id: string }) => d.id)), new Set([id, adoptedId]));
    const uis = await api.call('carol', 'GET', '/datasets?owner=uis');
    assert.deepEqual(
      uis.body.items.map((d: { id: string }) => d.id),
      [id],
    );
    const page1 = await api.call('carol', 'GET', '/datasets?limit=1');
    assert.equal(page1.body.items.length, 1);
    assert.equal(typeof page1.body.nextCursor, 'string');
    const page2 = await api.call('carol', 'GET', `/datasets?limit=1&cursor=${encodeURIComponent(page1.body.nextCursor)}`);
    assert.equal(page2.body.items.length, 1);
    assert.notEqual(page2.body.items[0].id, page1.body.items[0].id);
    const bad = await api.call('carol', 'GET', '/datasets?limit=0&state=busy');
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.error.details.map((d: { path: string }) => d.path).sort(), ['limit', 'state']);
  });

  await t.test('read; owner-only update', async () => {
    const r = await api.call('bob', 'GET', `/datasets/${id}`);
    assert.equal(r.status, 200);
    assert.equal(r.body.name, 'patients');
    assert.equal((await api.call('bob', 'PATCH', `/datasets/${id}`, { name: 'mine now' })).status, 403);
    const u = await api.call('alice2', 'PATCH', `/datasets/${id}`, { description: 'updated by a colleague' });
    assert.equal(u.status, 200, u.text);
    assert.equal(u.body.description, 'updated by a colleague');
    const bad = await api.call('alice', 'PATCH', `/datasets/${id}`, { policy: { leaseTtlSeconds: 9000 } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details[0].path, 'policy.leaseTtlSeconds');
  });

  await t.test('tree: owner yes, others no', async () => {
    const r = await api.call('alice', 'GET', `/datasets/${id}/tree`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.items, [
      { path: 'README.md', type: 'file', size: 11 },
      { path: 'data', type: 'directory' },
      { path: 'data/patients.csv', type: 'file', size: 12 },
    ]);
    assert.equal((await api.call('bob', 'GET', `/datasets/${id}/tree`)).status, 403);
  });

  let expiresAt = '';
  await t.test('lease: 201; a second taker gets 409 with holder and expiry; the lessee sees the tree', async () => {
    const tooLong = await api.call('bob', 'POST', `/datasets/${id}/lease`, { ttlSeconds: 601 });
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.body.error.details[0].path, 'ttlSeconds');
    const r = await api.call('bob', 'POST', `/datasets/${id}/lease`);
    assert.equal(r.status, 201, r.text);
    assert.deepEqual(Object.keys(r.body).sort(), ['datasetId', 'expiresAt', 'holder']);
    assert.deepEqual(r.body.holder, USERS.bob);
    assert.equal(r.body.datasetId, id);
    expiresAt = r.body.expiresAt;
    const held = await api.call('carol', 'POST', `/datasets/${id}/lease`, {});
    assert.equal(held.status, 409);
    assert.equal(held.body.error.code, 'lease_held');
    assert.deepEqual({ user: held.body.error.holder.user, org: held.body.error.holder.org }, USERS.bob);
    assert.equal(held.body.error.expiresAt, expiresAt);
    assert.equal((await api.call('bob', 'GET', `/datasets/${id}/tree`)).status, 200);
    assert.equal((await api.call('carol', 'GET', `/datasets/${id}/tree`)).status, 403);
    const leased = await api.call('carol', 'GET', '/datasets?state=leased');
    assert.deepEqual(
      leased.body.items.map((d: { id: string }) => d.id),
      [id],
    );
    assert.deepEqual(leased.body.items[0].lease.holder, USERS.bob);
  });

  await t.test('release: not by a stranger; by the holder; then lease again', async () => {
    assert.equal((await api.call('carol', 'DELETE', `/datasets/${id}/lease`)).status, 403);
    assert.equal((await api.call('bob', 'DELETE', `/datasets/${id}/lease`)).status, 204);
    assert.equal((await api.call('bob', 'GET', `/datasets/${id}/tree`)).status, 403);
    const again = await api.call('carol', 'POST', `/datasets/${id}/lease`, { ttlSeconds: 1 });
    assert.equal(again.status, 201, again.text);
  });

  await t.test('the timer expires the lease', async () => {
    const log = await api.host.waitForLog((l) => l['msg'] === 'lease expired' && l['datasetId'] === id, 30_000);
    assert.equal(log['datasetId'], id);
    const r = await eventually(
      async () => {
        const d = await api.call('alice', 'GET', `/datasets/${id}`);
        return d.body.state === 'free' ? d : undefined;
      },
      20_000,
      'the lease to expire',
    );
    assert.equal(r.body.lease, null);
  });

  await t.test('delete: owner only; crypto-shreds the key; the dataset is gone', async () => {
    assert.equal((await api.call('bob', 'DELETE', `/datasets/${id}`)).status, 403);
    assert.notEqual(await (await FileKeyStores.open(api.host.dataDir)).forOrg('uis').get(`ds-${id}-key`), undefined);
    const r = await api.call('alice', 'DELETE', `/datasets/${id}`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.cryptoShred, { purged: true });
    assert.equal(r.body.state, 'deleted');
    // The data key that sealed the location is gone from the owner's key store.
    assert.equal(await (await FileKeyStores.open(api.host.dataDir)).forOrg('uis').get(`ds-${id}-key`), undefined);
    assert.equal((await api.call('alice', 'GET', `/datasets/${id}`)).status, 410);
    assert.equal((await api.call('alice', 'GET', `/datasets/${id}/tree`)).status, 410);
    assert.equal((await api.call('bob', 'POST', `/datasets/${id}/lease`)).status, 410);
    const list = await api.call('alice', 'GET', '/datasets');
    assert.equal(
      list.body.items.some((d: { id: string }) => d.id === id),
      false,
    );
  });

  await t.test('history lists every step in order, without the sealed location', async () => {
    const r = await api.call('carol', 'GET', `/datasets/${id}/history`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(
      r.body.items.map((e: { action: string }) => e.action),
      ['registered', 'updated', 'leased', 'released', 'leased', 'expired', 'deleted'],
    );
    assert.deepEqual(r.body.items.map((e: { by: { org: string } }) => e.by.org).slice(0, 5), ['uis', 'uis', 'uio', 'uio', 'uib']);
    assert.equal(r.text.includes('sealedLocation'), false);
    assert.equal((await api.call('carol', 'GET', `/datasets/${'0'.repeat(32)}/history`)).status, 404);
  });

  await t.test('every route: 401 without a token, 400 on a malformed id, 404 on an unknown one', async () => {
    const unknown = 'a'.repeat(32);
    const routes: [string, string][] = [
      ['POST', '/datasets'],
      ['GET', '/datasets'],
      ['GET', `/datasets/${unknown}`],
      ['PATCH', `/datasets/${unknown}`],
      ['DELETE', `/datasets/${unknown}`],
      ['GET', `/datasets/${unknown}/tree`],
      ['POST', `/datasets/${unknown}/lease`],
      ['DELETE', `/datasets/${unknown}/lease`],
      ['GET', `/datasets/${unknown}/history`],
    ];
    for (const [method, path] of routes) {
      const r = await api.call(null, method, path, method === 'POST' || method === 'PATCH' ? { bad: true } : undefined);
      assert.equal(r.status, 401, `${method} ${path}`);
      assert.equal(r.body.error.code, 'unauthenticated');
      const wrong = await api.call(null, method, path, undefined, { authorization: 'Bearer not-a-token' });
      assert.equal(wrong.status, 401, `${method} ${path} with a bad token`);
      if (path.includes(unknown)) {
        const body = method === 'PATCH' ? { name: 'x' } : undefined;
        assert.equal((await api.call('alice', method, path, body)).status, 404, `${method} ${path}`);
        assert.equal((await api.call('alice', method, path.replace(unknown, 'not-an-id'), body)).status, 400, `${method} ${path} malformed`);
      }
    }
    assert.equal((await api.call(null, 'GET', '/health')).status, 200);
  });
});
