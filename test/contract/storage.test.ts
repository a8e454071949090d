import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  generateAccountSASQueryParameters,
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  StorageSharedKeyCredential,
} from '@azure/storage-file-share';
import { LocalDatasetStorage } from '../../src/adapters/storage/localStorage';
import { AzureFilesDatasetStorage } from '../../src/adapters/storage/azureFilesStorage';
import { LedgerflowError } from '../../src/core/errors';
import { FakeAzureFilesServer } from '../fakes/azureFilesServer';
import { storageContract } from './storage.contract';

const newId = () => randomBytes(16).toString('hex');
const noRetry = { retryOptions: { maxTries: 1 } };

storageContract('local', async () => {
  const base = await mkdtemp(join(tmpdir(), 'lf-st-'));
  const owned = join(base, 'owned');
  await mkdir(owned);
  const storage = new LocalDatasetStorage({ dataDir: join(base, 'data'), adoptRoots: { uis: [owned] } });
  return {
    storage,
    existing: async (files) => {
      const dir = await mkdtemp(join(owned, 'ds-'));
      for (const [p, c] of Object.entries(files)) await writeFile(join(dir, p), c);
      return { kind: 'local', path: dir };
    },
    missing: () => ({ kind: 'local', path: join(owned, 'nope') }),
    exists: async (loc) =>
      loc.kind === 'local' &&
      (await stat(loc.path).then(
        () => true,
        () => false,
      )),
    close: () => rm(base, { recursive: true, force: true }),
  };
});

storageContract('azure-files (SharedKey)', async () => {
  const server = await FakeAzureFilesServer.start();
  const storage = new AzureFilesDatasetStorage({
    platformAccount: { url: server.serviceUrl, credential: server.accountKey },
    pipelineOptions: noRetry,
    allowPrivateAddresses: true,
  });
  return {
    storage,
    existing: async (files) => {
      const share = `owner-${randomBytes(4).toString('hex')}`;
      server.seed(share, files);
      return { kind: 'azure-files', shareUrl: server.shareUrl(share), credential: server.accountKey };
    },
    missing: () => ({ kind: 'azure-files', shareUrl: server.shareUrl('absent'), credential: server.accountKey }),
    exists: async (loc) => loc.kind === 'azure-files' && server.hasShare(new URL(loc.shareUrl).pathname.split('/')[2]!),
    close: () => server.close(),
  };
});

test('azure-files: an adopted share with a SAS token; a wrong key is refused', async () => {
  const server = await FakeAzureFilesServer.start();
  try {
    const sas = generateAccountSASQueryParameters(
      {
        expiresOn: new Date(Date.now() + 3600_000),
        permissions: AccountSASPermissions.parse('rwdlc'),
        resourceTypes: AccountSASResourceTypes.parse('sco').toString(),
        services: AccountSASServices.parse('f').toString(),
      },
      new StorageSharedKeyCredential(server.accountName, server.accountKey),
    ).toString();
    server.acceptSas(sas);
    server.seed('owners', { 'dir/in.txt': 'abc' });
    const storage = new AzureFilesDatasetStorage({ pipelineOptions: noRetry, allowPrivateAddresses: true });
    const stored = await storage.adopt(newId(), { kind: 'azure-files', shareUrl: `${server.shareUrl('owners')}/dir`, credential: sas }, { 'up.txt': 'u' });
    assert.equal(stored.credential, sas);
    assert.equal(JSON.stringify(stored.location).includes('sig='), false, 'the location never holds the credential');
    assert.deepEqual(
      (await storage.tree(stored.location, sas)).map((e) => e.path),
      ['in.txt', 'up.txt'],
    );
    assert.equal(server.fileContent('owners', 'dir/up.txt'), 'u');
    const wrongKey = randomBytes(64).toString('base64');
    await assert.rejects(
      storage.adopt(newId(), { kind: 'azure-files', shareUrl: server.shareUrl('owners'), credential: wrongKey }, {}),
      (e: unknown) => e instanceof LedgerflowError && e.code === 'validation_failed' && e.details?.[0]?.path === 'source.shareUrl',
    );
    await assert.rejects(storage.tree(stored.location, wrongKey), (e: unknown) => e instanceof LedgerflowError && e.code === 'unavailable');
    await assert.rejects(
      storage.adopt(newId(), { kind: 'azure-files', shareUrl: 'http://example.com/acct/share', credential: 'k' }, {}),
      (e: unknown) => e instanceof LedgerflowError && e.details?.[0]?.path === 'source.shareUrl',
    );
  } finally {
    await server.close();
  }
});

test('local: adoption outside the allowed roots, of a file, or relative is refused', async () => {
  const base = await mkdtemp(join(tmpdir(), 'lf-st-'));
  try {
    const allowed = join(base, 'allowed');
    await mkdir(allowed);
    await writeFile(join(allowed, 'file'), 'x');
    await symlink('/etc', join(allowed, 'etc-link'));
    const storage = new LocalDatasetStorage({ dataDir: join(base, 'data'), adoptRoots: { uis: [allowed] } });
    for (const path of ['/etc', join(allowed, 'file'), 'relative/dir', join(allowed, 'etc-link'), join(allowed, '..')]) {
      await assert.rejects(
        storage.adopt(newId(), { kind: 'local', path }, {}, 'uis'),
        (e: unknown) => e instanceof LedgerflowError && e.details?.[0]?.path === 'source.path',
        path,
      );
    }
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test('local: uploads never pass through a symlink; listing skips symlinks that escape', async () => {
  const base = await mkdtemp(join(tmpdir(), 'lf-st-'));
  try {
    const allowed = join(base, 'allowed');
    const outside = join(base, 'outside');
    await mkdir(join(allowed, 'ds'), { recursive: true });
    await mkdir(outside);
    await writeFile(join(outside, 'secret.txt'), 'outside');
    await symlink(outside, join(allowed, 'ds', 'out'));
    await symlink(join(outside, 'secret.txt'), join(allowed, 'ds', 'secret-link'));
    await writeFile(join(allowed, 'ds', 'in.txt'), 'in');
    await symlink(join(allowed, 'ds', 'in.txt'), join(allowed, 'ds', 'in-link'));
    const storage = new LocalDatasetStorage({ dataDir: join(base, 'data'), adoptRoots: { uis: [allowed] } });
    const source = { kind: 'local' as const, path: join(allowed, 'ds') };
    await assert.rejects(
      storage.adopt(newId(), source, { 'out/planted.txt': 'x' }, 'uis'),
      (e: unknown) => e instanceof LedgerflowError && e.code === 'validation_failed',
    );
    await assert.rejects(
      storage.adopt(newId(), source, { 'secret-link': 'x' }, 'uis'),
      (e: unknown) => e instanceof LedgerflowError && e.code === 'validation_failed',
    );
    assert.deepEqual(await readdir(outside), ['secret.txt']);
    const stored = await storage.adopt(newId(), source, {}, 'uis');
    assert.deepEqual(
      (await storage.tree(stored.location)).map((e) => e.path),
      ['in-link', 'in.txt'],
    );
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
