import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '../../../bench/support/host';
import { schedule as scheduleSchema, workflowReceipt, workflowView } from '../../../src/api/schemas';
import { DatasetsApi, type Who } from '../datasets/client';

/**
 * Schedules and data triggers through the real host (embedded durable engine, ledger and
 * local sandbox): alice (uis) schedules workflows on datasets of bob (uio, no approval) and
 * carol (uib, approval required). Time is involved: counts are asserted within the issue's
 * ranges, states are polled with generous deadlines, and no elapsed time is asserted. The
 * host runs on a data dir of the test's own, so the last test can restart it.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'lf-schedules-'));
const apis: DatasetsApi[] = [];
let api: DatasetsApi;
const ds = { open: '', reviewed: '', unleased: '' };

const boot = async (): Promise<DatasetsApi> => {
  const started = await DatasetsApi.start({ COMPUTE: 'local', WORKFLOW_STATUS_POLL_SECONDS: '2', LEASE_EXPIRY_SCHEDULE: '*/1 * * * * *' }, { dataDir });
  apis.push(started);
  return started;
};

before(async () => {
  api = await boot();
  for (const [key, who, policy] of [
    ['open', 'bob', { approval: 'none' }],
    ['reviewed', 'carol', {}],
    ['unleased', 'bob', { approval: 'none' }],
  ] as const) {
    const r = await api.call(who, 'POST', '/datasets', { name: `${key}-data`, files: { 'a.txt': 'v1' }, policy });
    assert.equal(r.status, 201, r.text);
    ds[key] = r.body.id;
    assert.equal((await api.call('alice', 'POST', `/datasets/${r.body.id}/lease`, { ttlSeconds: 3000 })).status, 201);
  }
});
after(async () => {
  for (const a of apis) await a.host.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

const workflowOn = (datasetId: string, command = 'cat /data/d/a.txt > seen.txt') =>
  `jobs:\n  - command: '${command}'\n    volumes:\n      - {id: '${datasetId}', name: 'd', path: '/data/d'}\n`;

async function create(body: Record<string, unknown>, who: Who = 'alice') {
  const r = await api.call(who, 'POST', '/schedules', body);
  assert.equal(r.status, 201, r.text);
  return scheduleSchema.parse(r.body);
}
async function read(id: string) {
  const r = await api.call('alice', 'GET', `/schedules/${id}`);
  assert.equal(r.status, 200, r.text);
  return scheduleSchema.parse(r.body);
}
const until = <T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 90_000) => eventually(check, timeoutMs, what);
const FINISHED = ['Succeeded', 'Failed', 'Canceled', 'Rejected'];

test("another organization's token can neither see, change nor delete a schedule", async () => {
  const mine = await create({ name: 'yearly', workflow: workflowOn(ds.open), schedule: '0 0 0 1 1 *' });
  assert.equal(mine.enabled, true);
  assert.ok(mine.nextRunAt !== null);
  for (const who of ['bob', 'carol'] as const) {
    assert.equal((await api.call(who, 'GET', `/schedules/${mine.id}`)).status, 404);
    assert.equal((await api.call(who, 'PATCH', `/schedules/${mine.id}`, { enabled: false })).status, 404);
    assert.equal((await api.call(who, 'DELETE', `/schedules/${mine.id}`)).status, 404);
    const listed = await api.call(who, 'GET', '/schedules');
    assert.equal(listed.status, 200);
    assert.equal(
      listed.body.items.some((s: { id: string }) => s.id === mine.id),
      false,
    );
  }
  assert.equal((await read(mine.id)).enabled, true, 'unchanged by the attempts');
  const listed = await api.call('alice2', 'GET', '/schedules');
  assert.ok(
    listed.body.items.some((s: { id: string }) => s.id === mine.id),
    'the creator organization sees it',
  );
  // Neither owner nor lessee of a dataset the workflow mounts: refused at creation.
  assert.equal((await api.call('carol', 'POST', '/schedules', { name: 'x', workflow: workflowOn(ds.open), schedule: '*/3 * * * * *' })).status, 403);
  const bad = await api.call('alice', 'POST', '/schedules', { name: 'x', workflow: workflowOn(ds.open), schedule: '*/3 * * * *', files: { '../x': '' } });
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.body.error.details.map((d: { path: string }) => d.path).sort(), ['files["../x"]', 'schedule']);
  assert.equal((await api.call('alice', 'DELETE', `/schedules/${mine.id}`)).status, 204);
  assert.equal((await api.call('alice', 'GET', `/schedules/${mine.id}`)).status, 404);
});

test('a 3-second schedule runs 2 to 4 times in 10 s, and no more once disabled', async () => {
  const s = await create({ name: 'every 3 s', workflow: workflowOn(ds.open, 'true'), schedule: '*/3 * * * * *', options: { overlap: 'allow' } });
  // The ticks due in the 10 s after creation: `*/3` seconds is a 3 s grid (60 is a multiple of 3).
  const from = Date.parse(s.createdAt);
  const due: number[] = [];
  for (let t = Math.floor(from / 3000) * 3000 + 3000; t <= from + 10_000; t += 3000) due.push(t);
  assert.ok(due.length >= 3 && due.length <= 4);
  await sleep(10_000);
  const recorded = await until('every tick of the 10 s to be recorded', async () => {
    const runs = (await read(s.id)).runs;
    return due.every((t) => runs.some((r) => r.tick !== undefined && Date.parse(r.tick) === t)) ? runs : undefined;
  });
  const disabled = await api.call('alice', 'PATCH', `/schedules/${s.id}`, { enabled: false });
  assert.equal(disabled.status, 200, disabled.text);
  assert.equal(disabled.body.enabled, false);
  assert.equal(disabled.body.nextRunAt, null);
  const inWindow = recorded.filter((r) => Date.parse(r.tick!) <= from + 10_000);
  assert.ok(inWindow.length >= 2 && inWindow.length <= 4, `${inWindow.length} ticks in 10 s: ${JSON.stringify(recorded)}`);
  assert.equal(inWindow.length, due.length, 'each tick once');
  for (const run of inWindow) assert.ok(run.workflowId !== null, `every tick ran: ${JSON.stringify(run)}`);
  const ran = (await read(s.id)).runs;
  await until('the scheduled runs to succeed', async () => {
    const runs = (await read(s.id)).runs;
    return runs.every((r) => r.status === 'Succeeded') ? runs : undefined;
  });
  await sleep(7_000);
  assert.equal((await read(s.id)).runs.length, ran.length, 'no tick once disabled');
  await api.call('alice', 'DELETE', `/schedules/${s.id}`);
});

test('a tick whose creator does not hold the lease is recorded with its reason', async () => {
  // overlap allow: a run a tick started before the release does not make the next tick a skip for overlap.
  const s = await create({ name: 'unleased', workflow: workflowOn(ds.unleased), schedule: '*/2 * * * * *', options: { overlap: 'allow' } });
  assert.equal((await api.call('alice', 'DELETE', `/datasets/${ds.unleased}/lease`)).status, 204);
  const skipped = await until('a tick refused for want of a lease', async () =>
    (await read(s.id)).runs.find((r) => r.workflowId === null && r.reason?.startsWith('lease not held') === true),
  );
  assert.equal(skipped.status, 'Skipped');
  assert.match(skipped.reason ?? '', /^lease not held: .*not leased by alice@uis/);
  assert.equal((await api.call('alice', 'DELETE', `/schedules/${s.id}`)).status, 204);
});

test('a data trigger runs once per new version, on that version', async () => {
  const s = await create({ name: 'on update', workflow: workflowOn(ds.open), trigger: { datasetUpdated: ds.open } });
  assert.equal(s.nextRunAt, null);
  assert.deepEqual(s.runs, [], 'no run for the version in place at creation');
  for (const version of [2, 3]) {
    const pushed = await api.call('bob', 'PUT', `/datasets/${ds.open}/files`, { files: { 'a.txt': `v${version}` } });
    assert.equal(pushed.status, 200, pushed.text);
    assert.equal(pushed.body.version, version);
    const run = await until(`the run for version ${version}`, async () => {
      const found = (await read(s.id)).runs.find((r) => r.version === version);
      return found !== undefined && FINISHED.includes(found.status) ? found : undefined;
    });
    assert.equal(run.status, 'Succeeded', JSON.stringify(run));
    const seen = await api.call('alice', 'GET', `/workflows/${run.workflowId}/files/seen.txt`);
    assert.equal(seen.text, `v${version}`, 'the run read the new content');
    const view = workflowView.parse((await api.call('alice', 'GET', `/workflows/${run.workflowId}`)).body);
    assert.deepEqual(view.datasetVersions, { [ds.open]: version });
    const receipt = workflowReceipt.parse((await api.call('alice', 'GET', `/workflows/${run.workflowId}/receipt`)).body);
    assert.equal(receipt.run.launch?.datasetVersions?.[0]?.version, version);
  }
  // The follower reads events every second: a few more passes deliver nothing twice.
  await sleep(4_000);
  const runs = (await read(s.id)).runs;
  assert.deepEqual(
    runs.map((r) => r.version),
    [3, 2],
  );
  assert.equal((await api.call('alice', 'DELETE', `/schedules/${s.id}`)).status, 204);
});

test('an approval given with reuse lets the schedule run unattended', async () => {
  const s = await create({ name: 'reviewed', workflow: workflowOn(ds.reviewed), schedule: '*/3 * * * * *' });
  const waiting = await until('the first tick to await approval', async () => (await read(s.id)).runs.find((r) => r.status === 'AwaitingApproval'));
  assert.equal(waiting.reason, 'awaiting approval');
  // Later ticks meanwhile are skipped: the previous run has not ended.
  const skipped = await until('a tick skipped for overlap', async () => (await read(s.id)).runs.find((r) => r.status === 'Skipped'));
  assert.match(skipped.reason ?? '', /previous run still running/);
  const approved = await api.call('carol', 'POST', `/approvals/${waiting.workflowId}/approve`, { reuse: true });
  assert.equal(approved.status, 200, approved.text);
  const unattended = await until('a later run to succeed without asking', async () =>
    (await read(s.id)).runs.find((r) => r.workflowId !== null && r.workflowId !== waiting.workflowId && r.status === 'Succeeded'),
  );
  const approvals = await api.call('alice', 'GET', `/workflows/${unattended.workflowId}`);
  assert.deepEqual(
    approvals.body.approvals?.map((a: { state: string }) => a.state),
    ['approved'],
  );
  assert.equal((await api.call('alice', 'PATCH', `/schedules/${s.id}`, { enabled: false })).status, 200);
  assert.equal((await api.call('alice', 'DELETE', `/schedules/${s.id}`)).status, 204);
});

test('a restart of the host neither doubles nor loses a tick', async () => {
  const s = await create({ name: 'across restarts', workflow: workflowOn(ds.open, 'true'), schedule: '*/3 * * * * *', options: { overlap: 'allow' } });
  await until('a first tick', async () => ((await read(s.id)).runs.length >= 1 ? true : undefined));
  await api.host.kill();
  await sleep(2_000);
  api = await boot();
  const before = (await read(s.id)).runs.length;
  const runs = await until('two ticks after the restart', async () => {
    const now = (await read(s.id)).runs;
    return now.length >= before + 2 ? now : undefined;
  });
  assert.equal((await api.call('alice', 'PATCH', `/schedules/${s.id}`, { enabled: false })).status, 200);
  const ticks = runs.map((r) => Date.parse(r.tick!)).sort((a, b) => a - b);
  assert.equal(new Set(ticks).size, ticks.length, `no tick twice: ${JSON.stringify(runs)}`);
  for (let i = 1; i < ticks.length; i++) assert.equal(ticks[i]! - ticks[i - 1]!, 3_000, `no tick lost: ${JSON.stringify(runs)}`);
  const ids = runs.flatMap((r) => (r.workflowId === null ? [] : [r.workflowId]));
  assert.equal(new Set(ids).size, ids.length, 'no run twice');
  for (const r of runs) assert.ok(r.workflowId !== null || r.status === 'Missed', `a tick that did not run says why: ${JSON.stringify(r)}`);
});
