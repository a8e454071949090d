import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileKeyStores } from '../../src/adapters/keyStore/fileKeyStore';
import { KeyVaultKeyStores } from '../../src/adapters/keyStore/keyVaultKeyStore';
import { FakeKeyVaultServer, FakeTokenCredential } from '../fakes/keyVaultServer';
import { keyStoreContract } from './keyStore.contract';

async function grepDir(dir: string, needle: string): Promise<boolean> {
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && (await readFile(join(entry.parentPath, entry.name))).includes(needle)) return true;
  }
  return false;
}

keyStoreContract('file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lf-ks-'));
  const stores = await FileKeyStores.open(dir);
  return {
    stores,
    // Destroy rewrites the sealed file without the value, so the store itself is the witness.
    retains: async (org, name) => (await stores.forOrg(org).get(name)) !== undefined,
    close: () => rm(dir, { recursive: true, force: true }),
  };
});

keyStoreContract('keyvault', async () => {
  const server = await FakeKeyVaultServer.start();
  const stores = new KeyVaultKeyStores({
    vaultUrls: { uis: server.vaultUrl('uis'), uio: server.vaultUrl('uio'), uib: server.vaultUrl('uib') },
    credential: new FakeTokenCredential(),
    clientOptions: { httpClient: server.httpClient(), retryOptions: { maxRetries: 0 } },
    deletePollIntervalMs: 10,
  });
  return { stores, retains: async (org, name) => server.state(org, name) !== 'absent', close: () => server.close() };
});

test('file: values, names and the master key are not on disk in clear; modes are 0600/0700', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lf-ks-'));
  try {
    const stores = await FileKeyStores.open(dir);
    await stores.forOrg('uis').set('ds-recognisable-key', 'RECOGNISABLE-SECRET-VALUE');
    assert.equal(await grepDir(dir, 'RECOGNISABLE'), false);
    assert.equal((await stat(join(dir, 'keystore'))).mode & 0o777, 0o700);
    assert.equal((await stat(join(dir, 'keystore', 'master.key'))).mode & 0o777, 0o600);
    assert.equal((await stat(join(dir, 'keystore', 'uis.secrets'))).mode & 0o777, 0o600);
    const reopened = await FileKeyStores.open(dir);
    assert.equal(await reopened.forOrg('uis').get('ds-recognisable-key'), 'RECOGNISABLE-SECRET-VALUE');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('file: a stray temp file from a crash is ignored; a tampered store fails loudly', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lf-ks-'));
  try {
    const stores = await FileKeyStores.open(dir);
    await stores.forOrg('uis').set('ds-1-key', 'v');
    await writeFile(join(dir, 'keystore', '.uis.secrets.deadbeef.tmp'), 'half written');
    assert.equal(await (await FileKeyStores.open(dir)).forOrg('uis').get('ds-1-key'), 'v');
    const file = join(dir, 'keystore', 'uis.secrets');
    const raw = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64url');
    raw[raw.length - 1] = raw[raw.length - 1]! ^ 1;
    await writeFile(file, raw.toString('base64url'));
    await assert.rejects((await FileKeyStores.open(dir)).forOrg('uis').get('ds-1-key'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('file: two opens at once agree on one master key', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'lf-ks-'));
  try {
    const [a, b] = await Promise.all([FileKeyStores.open(dir), FileKeyStores.open(dir)]);
    await a.forOrg('uis').set('ds-1-key', 'v');
    assert.equal(await b.forOrg('uis').get('ds-1-key'), 'v');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('keyvault: challenge auth asks for the vault scope; purge protection is reported', async () => {
  const server = await FakeKeyVaultServer.start();
  try {
    const credential = new FakeTokenCredential();
    const stores = new KeyVaultKeyStores({
      vaultUrls: { uis: server.vaultUrl('uis') },
      credential,
      clientOptions: { httpClient: server.httpClient(), retryOptions: { maxRetries: 0 } },
      deletePollIntervalMs: 10,
    });
    const store = stores.forOrg('uis');
    await store.set('ds-9-key', 'v');
    assert.deepEqual(credential.scopesAsked, ['https://vault.test/.default']);
    server.purgeProtection = true;
    const result = await store.destroy('ds-9-key');
    assert.equal(result.purged, false);
    assert.match(result.reason ?? '', /purge protection/);
    assert.equal(server.state('uis', 'ds-9-key'), 'deleted');
    assert.equal(await store.get('ds-9-key'), undefined);
    assert.throws(() => stores.forOrg('nowhere'), /no key vault is configured/);
  } finally {
    await server.close();
  }
});
