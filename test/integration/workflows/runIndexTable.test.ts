import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, repoRoot } from '../../../bench/support/host';
import { RUN_INDEX_FILE } from '../../../src/app/services';
import { FakeManagedIdentityServer } from '../../fakes/managedIdentityServer';
import { FAKE_TABLE_TOKEN, FakeTableServer } from '../../fakes/tableServer';
import { DatasetsApi } from '../datasets/client';

/**
 * RUN_INDEX=table as infra/azure deploys it: the run index is an Azure Table (the fake, over
 * TLS) reached with the app's managed identity; submitting, listing with a status filter and
 * paging all go through it, and nothing is indexed on the host's disk.
 */
const TABLE = 'ledgerflowruns';
let api: DatasetsApi;
let tables: FakeTableServer;
let identity: FakeManagedIdentityServer;
let dir: string;

before(async () => {
  tables = await FakeTableServer.start();
  identity = await FakeManagedIdentityServer.start(FAKE_TABLE_TOKEN);
  dir = await mkdtemp(join(tmpdir(), 'lf-rt-'));
  const ca = join(dir, 'tables-ca.pem');
  await writeFile(ca, tables.caCertPem);
  api = await DatasetsApi.start(
    { COMPUTE: 'local', RUN_INDEX: 'table', RUN_INDEX_TABLE_URL: tables.url, WORKFLOW_STATUS_POLL_SECONDS: '1', LEASE_EXPIRY_SCHEDULE: '0 0 0 1 1 *' },
    { env: { NODE_EXTRA_CA_CERTS: ca, NODE_OPTIONS: `--require ${join(repoRoot, 'dist', 'test', 'fakes', 'loopbackDns.js')}`, ...identity.env() } },
  );
});
after(async () => {
  await api?.host.kill();
  await tables?.close();
  await identity?.close();
  await rm(dir, { recursive: true, force: true });
});

async function submit(command: string): Promise<string> {
  const r = await api.call('alice', 'POST', '/workflows', { workflow: `jobs:\n  - command: ${JSON.stringify(command)}\n` });
  assert.equal(r.status, 202, r.text);
  return String(r.body.id);
}

test('runs are indexed in the table and listed from it, by status and in pages, one partition per query', async () => {
  const ok = [await submit('true'), await submit('true')];
  const failed = await submit('exit 3');
  for (const id of [...ok, failed]) {
    await eventually(
      async () => {
        const s = (await api.call('alice', 'GET', `/workflows/${id}`)).body?.status as string | undefined;
        return s === 'Succeeded' || s === 'Failed' ? s : undefined;
      },
      60_000,
      `${id} ends`,
    );
  }
  const byStatus = await api.call('alice', 'GET', '/workflows?status=Succeeded&limit=1');
  assert.equal(byStatus.status, 200, byStatus.text);
  assert.deepEqual(
    byStatus.body.items.map((w: { id: string }) => w.id),
    [ok[1]],
  );
  const next = await api.call('alice', 'GET', `/workflows?status=Succeeded&limit=1&cursor=${encodeURIComponent(String(byStatus.body.nextCursor))}`);
  assert.deepEqual(
    next.body.items.map((w: { id: string }) => w.id),
    [ok[0]],
  );
  const all = await api.call('alice', 'GET', '/workflows?limit=10');
  assert.deepEqual(
    all.body.items.map((w: { id: string; status: string }) => [w.id, w.status]),
    [
      [failed, 'Failed'],
      [ok[1], 'Succeeded'],
      [ok[0], 'Succeeded'],
    ],
  );
  assert.equal((await api.call('carol', 'GET', '/workflows')).body.items.length, 0);

  const rows = tables.rows(TABLE);
  for (const id of [...ok, failed])
    assert.ok(
      rows.some((r) => r.partitionKey === `run|${id}`),
      `run row of ${id}`,
    );
  assert.equal(rows.filter((r) => r.partitionKey === 'org|uis').length, 3);
  assert.ok(identity.resources.includes('https://storage.azure.com'), identity.resources.join(','));
  assert.ok(tables.filters.length > 0);
  for (const filter of tables.filters) assert.match(filter, /^PartitionKey eq '/, filter);
  assert.equal(existsSync(join(api.host.dataDir, RUN_INDEX_FILE)), false, 'nothing indexed on the host disk');
});
