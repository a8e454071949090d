import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { eventually } from '../../../bench/support/host';
import { PLATFORM_ATTRIBUTES } from '../../../src/ledger-peer/localCa';
import { DishonestClient } from '../../adversary/dishonestClient';
import { DatasetsApi } from '../datasets/client';

/**
 * Runs follow the ledger, whatever path changed it: the lease under a running job ends
 * directly on the ledger (the holder's own Fabric client releases it; the platform identity
 * expires it without going through the app's timers), and the run is canceled within 5 s,
 * from the ledger's own chaincode events.
 */
let api: DatasetsApi;
let endpoint: string;

before(async () => {
  // The app's own expiry timer never fires during the test: only the direct calls end leases.
  api = await DatasetsApi.start({ COMPUTE: 'local', LEASE_EXPIRY_SCHEDULE: '0 0 0 1 1 *' });
  const started = await api.host.waitForLog((l) => l['msg'] === 'embedded ledger peer started', 60_000);
  endpoint = String(started['endpoint']);
});
after(async () => {
  await api?.host.kill();
});

const mspDir = () => join(api.host.dataDir, 'ledger', 'msp');

/** bob's dataset, leased by alice, read in a loop by a sandboxed job of alice's run. */
async function runReadingLeasedDataset(ttlSeconds: number): Promise<{ datasetId: string; runId: string }> {
  // Consent is not what this probes: the owner opts out of approving each run.
  const dataset = await api.call('bob', 'POST', '/datasets', { name: 'followed', policy: { approval: 'none' }, files: { 'x.txt': 'lorem' } });
  assert.equal(dataset.status, 201, dataset.text);
  const datasetId = String(dataset.body.id);
  const lease = await api.call('alice', 'POST', `/datasets/${datasetId}/lease`, { ttlSeconds });
  assert.equal(lease.status, 201, lease.text);
  const r = await api.call('alice', 'POST', '/workflows', {
    workflow: `jobs:\n  - command: 'while true; do cat /data/uio/x.txt > /dev/null || exit 3; sleep 0.2; done'\n    volumes:\n      - {id: '${datasetId}', name: 'uio', path: '/data/uio'}\n`,
  });
  assert.equal(r.status, 202, r.text);
  const runId = String(r.body.id);
  await eventually(
    async () => ((await api.call('alice', 'GET', `/workflows/${runId}`)).body.jobs[0].status === 'Running' ? true : undefined),
    60_000,
    'the reading job to run',
  );
  return { datasetId, runId };
}

async function canceledWithin5s(runId: string): Promise<void> {
  const run = await eventually(
    async () => {
      const r = await api.call('alice', 'GET', `/workflows/${runId}`);
      return ['Succeeded', 'Failed', 'Canceled'].includes(r.body.status) ? r.body : undefined;
    },
    5_000,
    `run ${runId} to end after its lease ended on the ledger`,
  );
  assert.equal(run.status, 'Canceled');
  assert.deepEqual(
    run.jobs.map((j: { status: string }) => j.status),
    ['Canceled'],
  );
}

test('the holder releases its lease with its own Fabric client while its run reads the dataset: the run is canceled', async () => {
  const { datasetId, runId } = await runReadingLeasedDataset(300);
  const holder = await DishonestClient.connect(endpoint, mspDir(), 'uis', 'alice');
  try {
    const released = await holder.submit('honest', 'ReleaseLease', datasetId);
    assert.ok(released.ok, released.text);
  } finally {
    holder.close();
  }
  await canceledWithin5s(runId);
});

test("the lease expires and is expired on the ledger outside the app's timer: the run is canceled", async () => {
  const { datasetId, runId } = await runReadingLeasedDataset(6);
  const platform = await DishonestClient.connect(endpoint, mspDir(), 'uis', 'ledgerflow', PLATFORM_ATTRIBUTES);
  try {
    await eventually(async () => ((await platform.evaluate('honest', 'ReadLease', datasetId)).text === '' ? true : undefined), 30_000, 'the lease to run out');
    // The app's own exact-expiry timer fires at the same moment: the two ExpireLeases may
    // meet in one block (one is invalidated, the other stands), and either may be the one
    // that removed this lease. The run stops from whichever event that was.
    await eventually(async () => ((await platform.submit('honest', 'ExpireLeases')).ok ? true : undefined), 10_000, 'a direct ExpireLeases to commit');
  } finally {
    platform.close();
  }
  await canceledWithin5s(runId);
});
