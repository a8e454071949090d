import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { durableFetch, durableSystemKey } from '../../../bench/support/durableApi';
import { eventually } from '../../../bench/support/host';
import { jobInstanceId } from '../../../src/core/workflow/run';
import { systemKeyPath } from '../../../src/durable/systemKey';
import { DatasetsApi } from '../datasets/client';

/**
 * The durable management API on the host's port is no back door into runs: without the
 * system key nobody can report a job done (the forged `job-completed` that used to mark a
 * running job Succeeded without its callback token), terminate a run or list runs, while
 * the app's own functions (which reach the engine through `df.getClient`) work as before.
 */
let api: DatasetsApi;
before(async () => {
  api = await DatasetsApi.start({ COMPUTE: 'local', WORKFLOW_STATUS_POLL_SECONDS: '2', LEASE_EXPIRY_SCHEDULE: '0 0 0 1 1 *' });
});
after(async () => {
  await api?.host.kill();
});

interface Run {
  id: string;
  status: string;
  jobs: { name: string; status: string; exitCode: number | null }[];
}
const run = async (id: string): Promise<Run> => (await api.call('alice', 'GET', `/workflows/${id}`)).body as Run;

test('an anonymous job-completed no longer finishes a running job; the app still drives runs', async () => {
  const submitted = await api.call('alice', 'POST', '/workflows', { workflow: "jobs:\n  - command: 'sleep 60'\n" });
  assert.equal(submitted.status, 202, submitted.text);
  const id = submitted.body.id as string;
  await eventually(async () => ((await run(id)).jobs[0]?.status === 'Running' ? true : undefined), 60_000, 'the job to run');

  const root = `${api.host.url}/runtime/webhooks/durabletask`;
  const job = encodeURIComponent(jobInstanceId(id, 'job-1'));
  const forged = JSON.stringify({ attempt: 1, exitCode: 0 });
  const key = durableSystemKey(api.host.dataDir);
  const refused: [string, string, number][] = [
    ['POST', `${root}/instances/${job}/raiseEvent/job-completed`, 401],
    ['POST', `${root}/instances/${job}/raiseEvent/job-completed?code=${'A'.repeat(43)}`, 401],
    ['POST', `${root}/instances/${encodeURIComponent(id)}/terminate?reason=x`, 401],
    ['GET', `${root}/instances?showInput=true`, 401],
    ['GET', `${root}/instances/${job}?showHistory=true`, 401],
    ['DELETE', `${root}/instances?createdTimeFrom=1970-01-01T00:00:00Z`, 401],
    ['POST', `${root}/rpc/${'A'.repeat(43)}/instances/${job}/raiseEvent/job-completed`, 404],
    ['POST', `${root}/rpc/instances/${job}/raiseEvent/job-completed`, 404],
  ];
  for (const [method, url, status] of refused) {
    const res = await fetch(url, { method, headers: { 'content-type': 'application/json' }, ...(method === 'POST' ? { body: forged } : {}) });
    const text = await res.text();
    api.bodies.push(text);
    assert.equal(res.status, status, `${method} ${url}: ${text}`);
    assert.ok(!text.includes(key));
  }
  // Refused before reaching the engine: no event in the job's history, the job still runs.
  const status = await durableFetch(api.host, `instances/${job}?showHistory=true`);
  assert.equal(status.status, 202, 'the key opens the API');
  const history = ((await status.json()) as { historyEvents: { EventType: string }[] }).historyEvents;
  assert.ok(history.length > 0);
  assert.deepEqual(
    history.filter((e) => e.EventType === 'EventRaised'),
    [],
  );
  const still = await run(id);
  assert.equal(still.status, 'Running', JSON.stringify(still));
  assert.equal(still.jobs[0]?.status, 'Running', JSON.stringify(still));
  assert.equal(still.jobs[0]?.exitCode ?? null, null);

  // The app's cancel (through df.getClient) stops the run.
  assert.equal((await api.call('alice', 'POST', `/workflows/${id}/cancel`)).status, 202);
  const done = await eventually(
    async () => {
      const r = await run(id);
      return r.status === 'Canceled' ? r : undefined;
    },
    60_000,
    'the run to be canceled',
  );
  assert.notEqual(done.jobs[0]?.status, 'Succeeded');
  assert.equal(statSync(systemKeyPath(api.host.dataDir)).mode & 0o777, 0o600);
});
