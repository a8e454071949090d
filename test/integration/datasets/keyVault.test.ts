import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../../bench/support/host';
import { FAKE_KEY_VAULT_TOKEN, FakeKeyVaultServer } from '../../fakes/keyVaultServer';
import { FakeManagedIdentityServer } from '../../fakes/managedIdentityServer';
import { DatasetsApi } from './client';

/**
 * The host configured as on Azure for keys: KEY_STORE=keyvault, one vault per organization
 * (KEY_VAULT_URL_<ORG>), DefaultAzureCredential through the App Service managed identity
 * endpoint. Deleting a dataset purges its key, or says why it could not.
 */
let api: DatasetsApi;
let vault: FakeKeyVaultServer;
let identity: FakeManagedIdentityServer;
let dir: string;

before(async () => {
  vault = await FakeKeyVaultServer.start();
  identity = await FakeManagedIdentityServer.start(FAKE_KEY_VAULT_TOKEN);
  dir = await mkdtemp(join(tmpdir(), 'lf-kv-'));
  const ca = join(dir, 'vault-ca.pem');
  await writeFile(ca, vault.caCertPem);
  api = await DatasetsApi.start(
    { KEY_STORE: 'keyvault', LEASE_EXPIRY_SCHEDULE: '0 0 0 1 1 *' },
    {
      env: {
        KEY_VAULT_URL_UIS: `${vault.vaultUrl('uis')}/`,
        KEY_VAULT_URL_UIO: `${vault.vaultUrl('uio')}/`,
        NODE_EXTRA_CA_CERTS: ca,
        NODE_OPTIONS: `--require ${join(repoRoot, 'dist', 'test', 'fakes', 'loopbackDns.js')}`,
        ...identity.env(),
      },
    },
  );
});
after(async () => {
  await api?.host.kill();
  await vault?.close();
  await identity?.close();
  await rm(dir, { recursive: true, force: true });
});

test('keys live in the owner organization vault; delete purges them', async () => {
  const r = await api.call('alice', 'POST', '/datasets', { name: 'kv', files: { 'a.txt': 'a' } });
  assert.equal(r.status, 201, r.text);
  const id: string = r.body.id;
  assert.equal(vault.state('uis', `ds-${id}-key`), 'live');
  assert.equal(vault.state('uio', `ds-${id}-key`), 'absent');
  assert.ok(identity.resources.includes('https://vault.test'), identity.resources.join(','));
  assert.equal((await api.call('alice', 'GET', `/datasets/${id}/tree`)).body.items[0].path, 'a.txt');
  const d = await api.call('alice', 'DELETE', `/datasets/${id}`);
  assert.equal(d.status, 200, d.text);
  assert.deepEqual(d.body.cryptoShred, { purged: true });
  assert.equal(vault.state('uis', `ds-${id}-key`), 'absent');
});

test('with purge protection the key is soft-deleted and the response says so', async () => {
  const r = await api.call('bob', 'POST', '/datasets', { name: 'protected' });
  assert.equal(r.status, 201, r.text);
  const id: string = r.body.id;
  vault.purgeProtection = true;
  try {
    const d = await api.call('bob', 'DELETE', `/datasets/${id}`);
    assert.equal(d.status, 200, d.text);
    assert.equal(d.body.cryptoShred.purged, false);
    assert.match(d.body.cryptoShred.reason, /purge protection/);
    assert.equal(vault.state('uio', `ds-${id}-key`), 'deleted');
  } finally {
    vault.purgeProtection = false;
  }
});

test('an organization without a vault cannot register (503), and nothing is left behind', async () => {
  const r = await api.call('carol', 'POST', '/datasets', { name: 'no vault', files: { 'x.txt': 'x' } });
  assert.equal(r.status, 503, r.text);
  assert.equal(r.body.error.code, 'unavailable');
  assert.deepEqual((await api.call('carol', 'GET', '/datasets?owner=uib')).body.items, []);
});
