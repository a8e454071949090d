import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { eventually, fixtureApp, startHost, type TestHost } from '../../../bench/support/host';

// The durable test app on the embedded host in a child process, driven over HTTP: through
// its starters (which use df.getClient) and through the management API links they return.
let host: TestHost;
const out = mkdtempSync(join(tmpdir(), 'durable-out-'));

before(async () => {
  host = await startHost({ entry: fixtureApp('durable'), settings: { FIXTURE_OUT_DIR: out }, env: { LOG_LEVEL: 'warn' } });
});
after(async () => {
  await host.kill();
  rmSync(out, { recursive: true, force: true });
});

interface Links {
  id: string;
  statusQueryGetUri: string;
  sendEventPostUri: string;
  terminatePostUri: string;
  suspendPostUri: string;
  resumePostUri: string;
  purgeHistoryDeleteUri: string;
}
interface Status {
  runtimeStatus: string;
  output: unknown;
  customStatus: unknown;
  input: unknown;
  historyEvents?: { EventType: string }[];
}

async function start(name: string, input?: unknown, instanceId?: string): Promise<Links> {
  const res = await fetch(`${host.url}/api/orchestrators/${name}${instanceId ? `/${instanceId}` : ''}`, {
    method: 'POST',
    body: input === undefined ? '' : JSON.stringify(input),
  });
  assert.equal(res.status, 202, await res.clone().text());
  return (await res.json()) as Links;
}
const status = async (links: Links): Promise<Status> => (await (await fetch(links.statusQueryGetUri)).json()) as Status;
const finished = (links: Links, timeoutMs = 30_000) =>
  eventually(
    async () => {
      const s = await status(links);
      return ['Completed', 'Failed', 'Terminated'].includes(s.runtimeStatus) ? s : undefined;
    },
    timeoutMs,
    `${links.id} to finish`,
  );

test('function chain, started and awaited through the client', async () => {
  const res = await fetch(`${host.url}/api/orchestrators/chain?wait=true`, { method: 'POST', body: '"ledgerflow"' });
  assert.equal(res.status, 200);
  assert.equal(await res.json(), 'Hello Hello Hello ledgerflow');
});

test('fan-out/fan-in of 500 activities', async () => {
  const s = await finished(await start('fanOut', 500));
  assert.equal(s.runtimeStatus, 'Completed');
  assert.deepEqual(s.output, { count: 500, sum: 499 * 500 });
  assert.deepEqual(s.customStatus, { scheduled: 500 });
});

test('durable timer', async () => {
  const s = await finished(await start('timer', 300));
  assert.equal(s.runtimeStatus, 'Completed');
  assert.equal((s.output as { waitedAtLeast: boolean }).waitedAtLeast, true);
});

test('external event raised over HTTP (client route and management link)', async () => {
  const a = await start('approval', undefined, 'approval-1');
  assert.equal(a.id, 'approval-1');
  await eventually(async () => ((await status(a)).customStatus === 'waiting for approval' ? true : undefined));
  const raised = await fetch(`${host.url}/api/instances/approval-1/raiseEvent/approve`, { method: 'POST', body: JSON.stringify({ by: 'alice' }) });
  assert.equal(raised.status, 202);
  assert.deepEqual((await finished(a)).output, { approved: { by: 'alice' } });

  const b = await start('waitForever');
  const viaLink = await fetch(b.sendEventPostUri.replace('{eventName}', 'wake'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '42',
  });
  assert.equal(viaLink.status, 202);
  assert.deepEqual((await finished(b)).output, { woke: 42 });
});

test('sub-orchestration', async () => {
  const p = await start('parent', 'child', 'parent-1');
  assert.deepEqual((await finished(p)).output, { child: 'Hello Hello Hello child' });
  const child = (await (await fetch(`${host.url}/api/instances/parent-1:child`)).json()) as Status;
  assert.equal(child.runtimeStatus, 'Completed');
});

test('retries succeed on the third attempt', async () => {
  const s = await finished(await start('retrying'));
  assert.equal(s.runtimeStatus, 'Completed');
  assert.equal(s.output, 'succeeded on attempt 3');
});

test('terminate, and suspend/resume', async () => {
  const t = await start('waitForever');
  assert.equal((await fetch(`${host.url}/api/instances/${t.id}/terminate`, { method: 'POST' })).status, 202);
  const ts = await finished(t);
  assert.equal(ts.runtimeStatus, 'Terminated');
  assert.equal(ts.output, 'terminated by test');

  const s = await start('waitForever');
  await eventually(async () => ((await status(s)).customStatus === 'waiting' ? true : undefined));
  assert.equal((await fetch(s.suspendPostUri.replace('{text}', 'pause'), { method: 'POST' })).status, 202);
  await eventually(async () => ((await status(s)).runtimeStatus === 'Suspended' ? true : undefined));
  await fetch(`${host.url}/api/instances/${s.id}/raiseEvent/wake`, { method: 'POST', body: '"early"' });
  assert.equal((await status(s)).runtimeStatus, 'Suspended');
  assert.equal((await fetch(`${host.url}/api/instances/${s.id}/resume`, { method: 'POST' })).status, 202);
  assert.deepEqual((await finished(s)).output, { woke: 'early' });
});

test('continue-as-new', async () => {
  const s = await finished(await start('counter', 0));
  assert.equal(s.runtimeStatus, 'Completed');
  assert.deepEqual(s.output, { final: 3 });
});

test('a failing orchestration shows the error in its status', async () => {
  const f = await start('failing');
  const s = await finished(f);
  assert.equal(s.runtimeStatus, 'Failed');
  assert.match(String(s.output), /the activity exploded/);
  const full = (await (await fetch(`${f.statusQueryGetUri}&showHistory=true`)).json()) as Status & { failureDetails: { errorMessage: string } };
  assert.match(full.failureDetails.errorMessage, /the activity exploded/);
  assert.ok(full.historyEvents?.some((e) => e.EventType === 'TaskFailed'));
});

test('purge: one instance through the client, and by filter', async () => {
  const one = await start('chain', 'purge-me');
  await finished(one);
  const purged = await (await fetch(`${host.url}/api/instances/${one.id}`, { method: 'DELETE' })).json();
  assert.deepEqual(purged, { instancesDeleted: 1 });
  assert.equal((await fetch(one.statusQueryGetUri)).status, 404);

  const listed = (await (await fetch(`${host.url}/api/instances?status=Terminated`)).json()) as { instanceId: string }[];
  assert.ok(listed.length >= 1);
  const byFilter = (await (await fetch(`${host.url}/api/instances?status=Terminated`, { method: 'DELETE' })).json()) as { instancesDeleted: number };
  assert.equal(byFilter.instancesDeleted, listed.length);
});
