import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FakeAzureFilesServer } from '../../fakes/azureFilesServer';
import { FileKeyStores } from '../../../src/adapters/keyStore/fileKeyStore';
import { DatasetsApi } from './client';

/**
 * An Azure Files dataset's credential goes to the owner's key store and nowhere else: not
 * the ledger, not a log line, not a response, not any other file in the data dir.
 */
const CANARY = `LeakCanary${randomBytes(64).toString('base64').slice(10)}`;
let api: DatasetsApi;
let files: FakeAzureFilesServer;

before(async () => {
  files = await FakeAzureFilesServer.start({ accountKey: CANARY });
  files.seed('owner-share', { 'cohort/visits.csv': 'id,visit\n1,2026-01-01\n' });
  api = await DatasetsApi.start({ LEASE_EXPIRY_SCHEDULE: '0 0 0 1 1 *', AZURE_FILES_ALLOW_PRIVATE: 'true' }); // the fake share is on loopback
});
after(async () => {
  await api?.host.kill();
  await files?.close();
});

async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const hits: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const bytes = await readFile(path).catch(() => Buffer.alloc(0));
    for (const form of [needle, Buffer.from(needle).toString('base64'), Buffer.from(needle).toString('hex')]) {
      if (bytes.includes(form)) hits.push(path);
    }
  }
  return hits;
}

test('an Azure Files credential appears nowhere but encrypted in the key store', async () => {
  const rejected = await api.call('bob', 'POST', '/datasets', {
    name: '',
    source: { kind: 'azure-files', shareUrl: files.shareUrl('owner-share'), credential: CANARY },
  });
  assert.equal(rejected.status, 400);
  const wrongShare = await api.call('bob', 'POST', '/datasets', {
    name: 'x',
    source: { kind: 'azure-files', shareUrl: files.shareUrl('absent-share'), credential: CANARY },
  });
  assert.equal(wrongShare.status, 400, wrongShare.text);

  const r = await api.call('bob', 'POST', '/datasets', {
    name: 'visits',
    source: { kind: 'azure-files', shareUrl: files.shareUrl('owner-share'), credential: CANARY },
    files: { 'notes/upload.txt': 'uploaded' },
  });
  assert.equal(r.status, 201, r.text);
  const id: string = r.body.id;
  assert.equal(r.body.storageKind, 'azure-files');
  assert.equal(files.fileContent('owner-share', 'notes/upload.txt'), 'uploaded');

  assert.equal((await api.call('carol', 'GET', `/datasets/${id}`)).status, 200);
  assert.equal((await api.call('carol', 'GET', '/datasets')).status, 200);
  const tree = await api.call('bob', 'GET', `/datasets/${id}/tree`);
  assert.deepEqual(
    tree.body.items.map((e: { path: string }) => e.path),
    ['cohort', 'cohort/visits.csv', 'notes', 'notes/upload.txt'],
  );
  assert.equal((await api.call('carol', 'POST', `/datasets/${id}/lease`)).status, 201);
  assert.equal((await api.call('carol', 'GET', `/datasets/${id}/tree`)).status, 200);
  assert.equal((await api.call('carol', 'DELETE', `/datasets/${id}/lease`)).status, 204);
  assert.equal((await api.call('alice', 'GET', `/datasets/${id}/history`)).status, 200);

  // Before deletion the credential is in the owner's key store, encrypted on disk.
  assert.equal(await (await FileKeyStores.open(api.host.dataDir)).forOrg('uio').get(`ds-${id}-credential`), CANARY);
  assert.deepEqual(await filesContaining(api.host.dataDir, CANARY), []);

  const deleted = await api.call('bob', 'DELETE', `/datasets/${id}`);
  assert.equal(deleted.status, 200, deleted.text);
  assert.deepEqual(deleted.body.cryptoShred, { purged: true });
  assert.equal(await (await FileKeyStores.open(api.host.dataDir)).forOrg('uio').get(`ds-${id}-credential`), undefined);
  assert.equal(files.fileContent('owner-share', 'cohort/visits.csv') !== undefined, true, 'adopted data stays with its owner');

  assert.deepEqual(await filesContaining(api.host.dataDir, CANARY), []);
  assert.equal(api.host.stdout().includes(CANARY), false, 'stdout logs');
  assert.equal(api.host.stderr().includes(CANARY), false, 'stderr');
  assert.ok(api.host.logs().length > 0);
  for (const body of api.bodies) assert.equal(body.includes(CANARY), false, body);
});
