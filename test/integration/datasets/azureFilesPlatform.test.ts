import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../../bench/support/host';
import { FakeAzureFilesServer } from '../../fakes/azureFilesServer';
import { FakeManagedIdentityServer } from '../../fakes/managedIdentityServer';
import { FileKeyStores } from '../../../src/adapters/keyStore/fileKeyStore';
import { DatasetsApi } from './client';

/**
 * STORAGE=azure-files as deployed by infra/azure: uploads go to a share per dataset in the
 * platform account, reached with the app's managed identity (no stored credential).
 */
const STORAGE_TOKEN = 'fake-storage-token';
let api: DatasetsApi;
let files: FakeAzureFilesServer;
let identity: FakeManagedIdentityServer;
let dir: string;

before(async () => {
  files = await FakeAzureFilesServer.start({ https: true });
  files.acceptBearer(STORAGE_TOKEN);
  identity = await FakeManagedIdentityServer.start(STORAGE_TOKEN);
  dir = await mkdtemp(join(tmpdir(), 'lf-af-'));
  const ca = join(dir, 'files-ca.pem');
  await writeFile(ca, files.caCertPem!);
  api = await DatasetsApi.start(
    { STORAGE: 'azure-files', AZURE_FILES_ACCOUNT_URL: `${files.serviceUrl}/`, LEASE_EXPIRY_SCHEDULE: '0 0 0 1 1 *' },
    {
      env: { NODE_EXTRA_CA_CERTS: ca, NODE_OPTIONS: `--require ${join(repoRoot, 'dist', 'test', 'fakes', 'loopbackDns.js')}`, ...identity.env() },
    },
  );
});
after(async () => {
  await api?.host.kill();
  await files?.close();
  await identity?.close();
  await rm(dir, { recursive: true, force: true });
});

test('uploads land in a platform share reached by managed identity; delete removes it', async () => {
  const r = await api.call('alice', 'POST', '/datasets', { name: 'cloud', files: { 'd/a.csv': '1,2\n' } });
  assert.equal(r.status, 201, r.text);
  const id: string = r.body.id;
  assert.equal(r.body.storageKind, 'azure-files');
  assert.equal(files.fileContent(`ds-${id}`, 'd/a.csv'), '1,2\n');
  assert.ok(identity.resources.includes('https://storage.azure.com'), identity.resources.join(','));
  assert.equal(await (await FileKeyStores.open(api.host.dataDir)).forOrg('uis').get(`ds-${id}-credential`), undefined);
  assert.equal((await api.call('bob', 'POST', `/datasets/${id}/lease`)).status, 201);
  const tree = await api.call('bob', 'GET', `/datasets/${id}/tree`);
  assert.deepEqual(tree.body.items, [
    { path: 'd', type: 'directory' },
    { path: 'd/a.csv', type: 'file', size: 4 },
  ]);
  const d = await api.call('alice', 'DELETE', `/datasets/${id}`);
  assert.equal(d.status, 200, d.text);
  assert.equal(files.hasShare(`ds-${id}`), false);
});
