import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { durableFetch } from '../../../bench/support/durableApi';
import type { TestHost } from '../../../bench/support/host';
import { eventually, finished, startConformanceHost, startViaApp } from './support';

// The published samples' patterns, written as the samples are (JavaScript, one file per
// pattern, `"main": "functions/*.js"`), run unchanged on the embedded host.
let host: TestHost;
let backend: Server;
let backendUrl: string;
const backendCalls: string[] = [];

before(async () => {
  // A long-running operation behind the 202-polling pattern, for callHttp.
  let polls = 0;
  backend = createServer((req, res) => {
    backendCalls.push(`${req.method} ${req.url}`);
    if (req.method === 'POST' && req.url === '/jobs') {
      res.writeHead(202, { Location: '/jobs/1', 'Retry-After': '1' }).end();
    } else if (req.method === 'GET' && req.url === '/jobs/1') {
      polls++;
      if (polls < 2) res.writeHead(202, { Location: '/jobs/1', 'Retry-After': '1' }).end();
      else res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ done: true, polls }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
  host = await startConformanceHost();
});

after(async () => {
  await host?.kill();
  backend?.close();
});

test('a glob "main" loads every file it matches', () => {
  // Every function of every matched file is registered (7 files, 19 functions).
  const m = /\((\d+) functions\)/.exec(host.stdout());
  assert.ok(m, host.stdout());
  assert.equal(Number(m[1]), 19);
});

test('function chaining', async () => {
  const s = await startViaApp(host, 'helloSequence');
  const { status, body } = await finished(host, s.id);
  assert.equal(status, 200);
  assert.deepEqual(body.output, ['Hello, Tokyo', 'Hello, Seattle', 'Hello, Cairo']);
});

test('fan-out/fan-in', async () => {
  const s = await startViaApp(host, 'fanOutFanIn', 10);
  assert.equal((await finished(host, s.id)).body.output, 385);
});

test('monitor with a durable timer and continueAsNew', async () => {
  const s = await startViaApp(host, 'countdownMonitor', 3);
  assert.equal((await finished(host, s.id)).body.output, 'done');
});

test('human interaction: an external event wins over the timeout', async () => {
  const s = await startViaApp(host, 'approvalWorkflow');
  const raise = await fetch(s.sendEventPostUri.replace('{eventName}', 'Approval'), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify('yes'),
  });
  assert.equal(raise.status, 202);
  assert.deepEqual((await finished(host, s.id)).body.output, { approved: 'yes' });
});

test('entity counter: signals and calls from an orchestration, calls return results', async () => {
  const s = await startViaApp(host, 'counterOrchestration', 'orch');
  const { body } = await finished(host, s.id);
  assert.equal(body.runtimeStatus, 'Completed', JSON.stringify(body));
  assert.equal(body.output, 13);
});

test('entity counter: signals from clients, entity-to-entity signals, reads and the entity routes', async () => {
  for (const n of [5, 7]) {
    assert.equal((await fetch(`${host.url}/api/counters/c1/add`, { method: 'POST', body: String(n) })).status, 202);
  }
  const read = async (key: string) => (await (await fetch(`${host.url}/api/counters/${key}`)).json()) as { entityExists: boolean; entityState?: unknown };
  await eventually(async () => ((await read('c1')).entityState === 12 ? true : undefined), 30_000, 'c1 to reach 12');
  assert.deepEqual(await read('never-touched'), { entityExists: false });

  await fetch(`${host.url}/api/counters/c1/addAndForward`, { method: 'POST', body: JSON.stringify({ amount: 3, to: 'c2' }) });
  await eventually(async () => ((await read('c2')).entityState === 3 ? true : undefined), 30_000, 'the forwarded signal');
  assert.equal((await read('c1')).entityState, 15);

  // The management API's entity routes (GET state, POST ?op=, DELETE, list).
  const one = await durableFetch(host, 'entities/counterEntity/c1');
  assert.equal(one.status, 200);
  assert.equal(await one.json(), 15);
  assert.equal((await durableFetch(host, 'entities/counterEntity/missing')).status, 404);
  const signal = await durableFetch(host, 'entities/counterEntity/c3?op=add', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '4' });
  assert.equal(signal.status, 202);
  await eventually(async () => ((await read('c3')).entityState === 4 ? true : undefined), 30_000, 'the API signal');
  const list = (await (await durableFetch(host, 'entities/counterEntity?fetchState=true')).json()) as { entityId: { key: string }; state: unknown }[];
  assert.deepEqual(list.map((e) => [e.entityId.key, e.state]).sort(), [
    ['c1', 15],
    ['c2', 3],
    ['c3', 4],
    ['orch', 13],
  ]);
  assert.equal((await durableFetch(host, 'entities/counterEntity/c3', { method: 'DELETE' })).status, 202);
  await eventually(async () => ((await read('c3')).entityExists === false ? true : undefined), 30_000, 'the entity to be deleted');
  // Entities are not orchestration instances: they are not listed as such.
  const instances = (await (await durableFetch(host, 'instances?top=1000')).json()) as { instanceId: string }[];
  assert.ok(!instances.some((i) => i.instanceId.startsWith('@')));
});

test('callHttp follows the 202 polling pattern of a local server', async () => {
  const s = await startViaApp(host, 'callHttpPolling', `${backendUrl}/jobs`);
  const { body } = await finished(host, s.id);
  assert.equal(body.runtimeStatus, 'Completed', JSON.stringify(body));
  assert.deepEqual(body.output, { statusCode: 200, content: { done: true, polls: 2 } });
  assert.deepEqual(backendCalls, ['POST /jobs', 'GET /jobs/1', 'GET /jobs/1']);
});

test('instance ids Azure refuses are refused by the client and by the API', async () => {
  // The SDK puts the id into the URL unencoded (on Azure too): '#', '?' and control
  // characters never reach the server from startNew, so only the API sees them whole.
  for (const bad of ['bad/id', 'bad\\id', '@bad', 'x'.repeat(257)]) {
    const res = await fetch(`${host.url}/api/orchestrators/helloSequence/ids/x?id=${encodeURIComponent(bad)}`, { method: 'POST' });
    assert.equal(res.status, 400, `client accepted ${JSON.stringify(bad)}`);
  }
  for (const bad of ['bad/id', 'bad\\id', 'a#b', 'a?b', '@bad', 'tab\there', 'del\u007f', 'x'.repeat(257)]) {
    const api = await durableFetch(host, `orchestrators/helloSequence/${encodeURIComponent(bad)}`, { method: 'POST' });
    assert.equal(api.status, 400, `API accepted ${JSON.stringify(bad)}`);
  }
  assert.equal((await durableFetch(host, `instances?instanceIdPrefix=bad`)).status, 200);
  const listed = (await (await durableFetch(host, 'instances?top=1000')).json()) as { instanceId: string }[];
  assert.ok(!listed.some((i) => /^(bad|@|a$|tab)/.test(i.instanceId)), JSON.stringify(listed.map((i) => i.instanceId)));
  const ok = await fetch(`${host.url}/api/orchestrators/helloSequence/ids/good-id.1`, { method: 'POST' });
  assert.equal(ok.status, 202);
});

test('a task re-yielded inside Task.all fails the orchestration instead of returning a wrong value', async () => {
  const bad = await finished(host, (await startViaApp(host, 'reyieldedTask')).id);
  assert.equal(bad.body.runtimeStatus, 'Failed');
  assert.match(String(bad.body.output), /Non-deterministic orchestration: task 0 \('greet'\) was yielded again inside Task\.all/);
  const good = await finished(host, (await startViaApp(host, 'keptResult')).id);
  assert.deepEqual(good.body.output, ['Hello a', 'Hello b']);
});

test("a failed orchestration's output has no stack trace; failureDetails has it", async () => {
  const s = await startViaApp(host, 'failingOrchestration');
  const { status, body } = await finished(host, s.id);
  assert.equal(status, 200);
  assert.equal(body.runtimeStatus, 'Failed');
  assert.equal(body.output, "Orchestrator function 'failingOrchestration' failed: Error: the activity exploded");
  assert.equal(body.failureDetails?.errorType, 'Error');
  assert.match(body.failureDetails?.stackTrace ?? '', /the activity exploded\n\s+at /);
});
