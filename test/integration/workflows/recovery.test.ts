import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../../../bench/support/host';
import { DatasetsApi } from '../datasets/client';

/**
 * Runs that must end without help from the happy path: job callbacks that never arrive
 * (the callback URL points at a closed port), so the periodic status check finishes the
 * jobs; and a lease that expires under a running job, which cancels the run.
 */
let api: DatasetsApi;

before(async () => {
  api = await DatasetsApi.start({
    COMPUTE: 'local',
    LEDGERFLOW_PUBLIC_URL: 'http://127.0.0.1:9', // nothing listens: every callback is lost
    WORKFLOW_STATUS_POLL_SECONDS: '1',
    LEASE_EXPIRY_SCHEDULE: '*/1 * * * * *',
  });
});
after(async () => {
  await api?.host.kill();
});

async function finished(id: string): Promise<{ status: string; jobs: { status: string; exitCode: number | null }[] }> {
  return eventually(
    async () => {
      const r = await api.call('alice', 'GET', `/workflows/${id}`);
      return ['Succeeded', 'Failed', 'Canceled'].includes(r.body.status) ? r.body : undefined;
    },
    60_000,
    `workflow ${id} to finish`,
  );
}

test('jobs whose completion callbacks are lost are finished by the status check', async () => {
  const r = await api.call('alice', 'POST', '/workflows', { workflow: "jobs:\n  - command: 'echo one'\n  - command: 'exit 5'\ndags:\n  - 1 >> 2\n" });
  assert.equal(r.status, 202, r.text);
  const run = await finished(r.body.id);
  assert.equal(run.status, 'Failed');
  assert.deepEqual(
    run.jobs.map((j) => [j.status, j.exitCode]),
    [
      ['Succeeded', 0],
      ['Failed', 5],
    ],
  );
});

test('a lease that expires under a running workflow cancels it', async () => {
  // Owner consent is not the subject here (approvals.test.ts covers a lease ending while a
  // run awaits approval): bob opts out so the job runs when the lease ends.
  const dataset = await api.call('bob', 'POST', '/datasets', { name: 'short', files: { 'x.txt': 'lorem' }, policy: { approval: 'none' } });
  assert.equal(dataset.status, 201, dataset.text);
  const lease = await api.call('alice', 'POST', `/datasets/${dataset.body.id}/lease`, { ttlSeconds: 4 });
  assert.equal(lease.status, 201, lease.text);
  const r = await api.call('alice', 'POST', '/workflows', {
    workflow: `jobs:\n  - command: 'sleep 60'\n    volumes:\n      - {id: '${dataset.body.id}', name: 'uio', path: '/data/uio'}\n`,
  });
  assert.equal(r.status, 202, r.text);
  const run = await finished(r.body.id);
  assert.equal(run.status, 'Canceled');
  assert.deepEqual(
    run.jobs.map((j) => j.status),
    ['Canceled'],
  );
});
