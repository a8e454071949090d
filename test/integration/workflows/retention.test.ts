import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { eventually } from '../../../bench/support/host';
import { QueueStore } from '../../../src/host/queue/queueStore';
import { DatasetsApi, type Who } from '../datasets/client';

/**
 * Retention over HTTP on one embedded host (issue 24): a finished run older than
 * WORKFLOW_RETENTION is purged whole (workspace and logs, every durable instance, queue
 * messages) while a running one is left alone and the ledger keeps the records; DELETE
 * /workflows/{id} does the same at once for a finished run only.
 */
const hosts: DatasetsApi[] = [];
after(async () => {
  for (const api of hosts) await api.host.kill();
});

async function start(settings: Record<string, string>): Promise<DatasetsApi> {
  const api = await DatasetsApi.start({ COMPUTE: 'local', WORKFLOW_STATUS_POLL_SECONDS: '1', LEASE_EXPIRY_SCHEDULE: '0 0 0 1 1 *', ...settings });
  hosts.push(api);
  return api;
}

/** alice's own dataset, leased by her (no consent needed), so her runs are on the ledger. */
async function leasedDataset(api: DatasetsApi): Promise<string> {
  const dataset = await api.call('alice', 'POST', '/datasets', { name: 'kept', files: { 'x.txt': 'lorem' } });
  assert.equal(dataset.status, 201, dataset.text);
  const id = String(dataset.body.id);
  assert.equal((await api.call('alice', 'POST', `/datasets/${id}/lease`, { ttlSeconds: 3600 })).status, 201);
  return id;
}

async function submit(api: DatasetsApi, who: Who, command: string, datasetId: string): Promise<string> {
  const r = await api.call(who, 'POST', '/workflows', {
    workflow: `jobs:\n  - command: ${JSON.stringify(command)}\n    volumes:\n      - {id: '${datasetId}', name: 'd', path: '/data/d'}\n  - command: 'cat out.txt'\ndags:\n  - 1 >> 2\n`,
  });
  assert.equal(r.status, 202, r.text);
  return String(r.body.id);
}

async function status(api: DatasetsApi, id: string): Promise<string> {
  return (await eventually(async () => (await api.call('alice', 'GET', `/workflows/${id}`)).body?.status as string | undefined, 30_000, `status of ${id}`))!;
}

function durableInstances(dataDir: string, workflowId: string): string[] {
  const db = new Database(join(dataDir, 'durable', 'durable.db'), { readonly: true, fileMustExist: true });
  try {
    return (
      db.prepare("SELECT instance_id FROM instances WHERE instance_id = ? OR instance_id LIKE ? || ':%'").all(workflowId, workflowId) as {
        instance_id: string;
      }[]
    ).map((r) => r.instance_id);
  } finally {
    db.close();
  }
}

function queueMessagesAbout(dataDir: string, workflowId: string): number {
  const queues = new QueueStore(dataDir);
  try {
    return [...queues.peek('workflow-cleanup', 1000), ...queues.peek('workflow-cleanup-poison', 1000)].filter((m) => String(m.body).includes(workflowId))
      .length;
  } finally {
    queues.close();
  }
}

const history = async (api: DatasetsApi, datasetId: string, workflowId: string) =>
  ((await api.call('alice', 'GET', `/datasets/${datasetId}/history`)).body.items as { action: string; value?: { workflowId?: string } }[])
    .filter((e) => e.value?.workflowId === workflowId)
    .map((e) => e.action);

test('a finished run older than WORKFLOW_RETENTION is purged whole; a running run is left alone; the ledger keeps the records', async () => {
  const api = await start({ WORKFLOW_RETENTION: '2s', PURGE_SCHEDULE: '*/1 * * * * *' });
  const dataDir = api.host.dataDir;
  const datasetId = await leasedDataset(api);
  const running = await submit(api, 'alice', 'echo started > out.txt; sleep 600', datasetId);
  const finished = await submit(api, 'alice', 'cat /data/d/x.txt > out.txt', datasetId);
  await eventually(async () => ((await status(api, running)) === 'Running' ? true : undefined), 60_000, 'the long run to run');
  assert.equal(
    await eventually(
      async () => {
        const s = await status(api, finished);
        return ['Succeeded', 'Failed', 'Canceled'].includes(s) ? s : undefined;
      },
      60_000,
      'the short run to end',
    ),
    'Succeeded',
  );
  await eventually(async () => ((await history(api, datasetId, finished)).includes('workflow-cleaned-up') ? true : undefined), 60_000, 'cleanup on the ledger');
  // A cleanup message the host gave up on, left in the poison queue: retention takes it too.
  const queues = new QueueStore(dataDir);
  queues.enqueue('workflow-cleanup-poison', {
    workflowId: finished,
    caller: { user: 'alice', org: 'uis' },
    status: 'Succeeded',
    datasetIds: [datasetId],
    releaseLeases: false,
  });
  queues.close();
  const recorded = await history(api, datasetId, finished);

  await eventually(
    async () => ((await api.call('alice', 'GET', `/workflows/${finished}`)).status === 404 ? true : undefined),
    60_000,
    'the finished run to be purged',
  );
  assert.ok(!existsSync(join(dataDir, 'runs', finished)), 'workspace and logs removed');
  assert.deepEqual(durableInstances(dataDir, finished), [], 'every durable instance of the run (workflow, jobs, cleanup) purged');
  assert.equal(queueMessagesAbout(dataDir, finished), 0, 'its queue messages deleted');
  assert.ok(!(await api.call('alice', 'GET', '/workflows?limit=100')).body.items.some((v: { id: string }) => v.id === finished), 'gone from the listing');
  assert.deepEqual(await history(api, datasetId, finished), recorded, 'the ledger keeps every record of the run');
  assert.ok(recorded.includes('workflow-launched') && recorded.includes('workflow-finished'));
  const purgeLog = api.host.logs().find((l) => l['msg'] === 'workflow run purged' && l['workflowId'] === finished);
  assert.ok(purgeLog !== undefined && Number(purgeLog['instances']) === 4, `the purge is logged with counts: ${JSON.stringify(purgeLog)}`);
  assert.equal(purgeLog['messages'], 1);

  // The running run: untouched, past the retention age.
  assert.equal(await status(api, running), 'Running');
  assert.ok(existsSync(join(dataDir, 'runs', running)));
  assert.ok(durableInstances(dataDir, running).length >= 2);
  assert.equal((await api.call('alice', 'POST', `/workflows/${running}/cancel`)).status, 202);
});

test('DELETE /workflows/{id} purges a finished run at once, for its organization only, and refuses a running one (409)', async () => {
  const api = await start({ WORKFLOW_RETENTION: '0' });
  const dataDir = api.host.dataDir;
  const datasetId = await leasedDataset(api);
  const running = await submit(api, 'alice', 'echo started > out.txt; sleep 600', datasetId);
  await eventually(async () => ((await status(api, running)) === 'Running' ? true : undefined), 60_000, 'the run to run');
  const refused = await api.call('alice', 'DELETE', `/workflows/${running}`);
  assert.equal(refused.status, 409, refused.text);
  assert.equal(refused.body.error.code, 'conflict');
  assert.equal(await status(api, running), 'Running', 'nothing of a running run is touched');
  assert.ok(existsSync(join(dataDir, 'runs', running)));

  assert.equal((await api.call('alice', 'POST', `/workflows/${running}/cancel`)).status, 202);
  await eventually(async () => ((await history(api, datasetId, running)).includes('workflow-cleaned-up') ? true : undefined), 60_000, 'cleanup on the ledger');
  assert.equal((await api.call('bob', 'DELETE', `/workflows/${running}`)).status, 404, 'another organization: no such run');
  // The cleanup orchestration records on the ledger before it completes: wait for the 200.
  const deleted = await eventually(
    async () => {
      const r = await api.call('alice2', 'DELETE', `/workflows/${running}`);
      return r.status === 409 ? undefined : r;
    },
    30_000,
    'the delete',
  );
  assert.equal(deleted.status, 200, deleted.text);
  assert.equal(deleted.body.id, running);
  assert.equal(deleted.body.instances, 3, 'workflow, the job that ran, cleanup (the second job never started)');
  assert.equal((await api.call('alice', 'GET', `/workflows/${running}`)).status, 404);
  assert.ok(!existsSync(join(dataDir, 'runs', running)));
  assert.deepEqual(durableInstances(dataDir, running), []);
  assert.ok((await history(api, datasetId, running)).includes('workflow-launched'), 'the ledger keeps the records');
  assert.equal((await api.call('alice', 'DELETE', `/workflows/${running}`)).status, 404, 'a second delete: gone');
});

test('listing over HTTP: each organization sees its own runs only; a cursor of another organization, or edited, is a 400', async () => {
  const api = hosts[1] ?? (await start({}));
  const datasetId = await leasedDataset(api);
  for (let i = 0; i < 3; i++) await submit(api, 'alice', 'echo x > out.txt', datasetId);
  const first = await api.call('alice', 'GET', '/workflows?limit=2');
  assert.equal(first.status, 200);
  assert.equal(first.body.items.length, 2);
  assert.equal(typeof first.body.nextCursor, 'string');
  assert.equal((await api.call('alice2', 'GET', `/workflows?limit=2&cursor=${first.body.nextCursor}`)).status, 200, 'same organization, same listing');
  const bobs = await api.call('bob', 'GET', '/workflows?limit=100');
  assert.deepEqual(bobs.body.items, [], "bob's organization has no runs");
  const foreign = await api.call('bob', 'GET', `/workflows?limit=2&cursor=${first.body.nextCursor}`);
  assert.equal(foreign.status, 400, foreign.text);
  const edited = await api.call('alice', 'GET', `/workflows?limit=2&cursor=${String(first.body.nextCursor).slice(0, -2)}xx`);
  assert.equal(edited.status, 400);
});
