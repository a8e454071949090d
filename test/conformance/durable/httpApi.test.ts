import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { durableFetch, durableSystemKey } from '../../../bench/support/durableApi';
import type { TestHost } from '../../../bench/support/host';
import { eventually, finished, startConformanceHost, type CheckStatus, type Status } from './support';

// The Durable Functions HTTP API as documented and as the extension's HttpApiHandler serves
// it: status codes, headers and field names of every route.
let host: TestHost;
before(async () => {
  host = await startConformanceHost();
});
after(async () => {
  await host?.kill();
});

const CHECK_STATUS_FIELDS = [
  'id',
  'purgeHistoryDeleteUri',
  'restartPostUri',
  'resumePostUri',
  'sendEventPostUri',
  'statusQueryGetUri',
  'suspendPostUri',
  'terminatePostUri',
];
const STATUS_FIELDS = ['createdTime', 'customStatus', 'input', 'instanceId', 'lastUpdatedTime', 'name', 'output', 'runtimeStatus'];
const post = (path: string, body?: unknown) =>
  durableFetch(host, path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: body === undefined ? '' : JSON.stringify(body) });

async function start(name: string, input?: unknown, id = ''): Promise<{ res: Response; body: CheckStatus }> {
  const res = await post(`orchestrators/${name}${id ? `/${id}` : ''}`, input);
  return { res, body: (await res.clone().json()) as CheckStatus };
}

test('start: 202, the management links, Location and Retry-After: 10', async () => {
  const { res, body } = await start('helloSequence');
  assert.equal(res.status, 202);
  assert.deepEqual(Object.keys(body).sort(), CHECK_STATUS_FIELDS);
  assert.equal(res.headers.get('location'), body.statusQueryGetUri);
  assert.equal(res.headers.get('retry-after'), '10');
  const status = new URL(body.statusQueryGetUri);
  assert.equal(status.searchParams.get('taskHub'), 'ConformanceHub');
  assert.equal(status.searchParams.get('code'), durableSystemKey(host.dataDir));
  await finished(host, body.id);
});

test('create-and-wait: 200 with the output when it finishes in time, else the 202 check-status response', async () => {
  const done = await post('orchestrators/helloSequence?timeout=20&pollingInterval=0.05');
  assert.equal(done.status, 200);
  assert.deepEqual(await done.json(), ['Hello, Tokyo', 'Hello, Seattle', 'Hello, Cairo']);
  const slow = await post('orchestrators/waitForever?timeout=0.1&pollingInterval=0.05');
  assert.equal(slow.status, 202);
  assert.equal(slow.headers.get('retry-after'), '10');
  const id = ((await slow.json()) as CheckStatus).id;
  assert.equal((await post(`instances/${id}/terminate?reason=done`)).status, 202);
});

test('status: 202 + Location + Retry-After: 5 while running; 200 when done; field names', async () => {
  const { body: s } = await start('waitForever', { n: 1 });
  const running = await eventually(
    async () => {
      const res = await durableFetch(host, `instances/${s.id}`);
      const b = (await res.json()) as Status;
      return b.runtimeStatus === 'Running' ? { res, b } : undefined;
    },
    30_000,
    'Running',
  );
  assert.equal(running.res.status, 202);
  assert.equal(running.res.headers.get('retry-after'), '5');
  assert.match(running.res.headers.get('location') ?? '', new RegExp(`/runtime/webhooks/durabletask/instances/${s.id}$`));
  assert.deepEqual(Object.keys(running.b).sort(), STATUS_FIELDS);
  assert.deepEqual(running.b.input, { n: 1 });
  assert.match(running.b.createdTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const noInput = (await (await durableFetch(host, `instances/${s.id}?showInput=false`)).json()) as Status;
  assert.equal(noInput.input, null);
  assert.equal((await post(`instances/${s.id}/terminate`)).status, 202);
  const ended = await finished(host, s.id);
  assert.equal(ended.status, 200);
  assert.equal(ended.body.runtimeStatus, 'Terminated');
});

test("showHistory: the extension's event shape (FunctionName, ScheduledTime; no scheduling records)", async () => {
  const { body: s } = await start('helloSequence');
  await finished(host, s.id);
  const plain = (await (await durableFetch(host, `instances/${s.id}?showHistory=true`)).json()) as Status & { history?: unknown };
  assert.equal(plain.history, undefined, 'one list, under historyEvents');
  const events = plain.historyEvents ?? [];
  assert.deepEqual(
    events.map((e) => e['EventType']),
    ['ExecutionStarted', 'TaskCompleted', 'TaskCompleted', 'TaskCompleted', 'ExecutionCompleted'],
  );
  assert.equal(events[0]?.['FunctionName'], 'helloSequence');
  assert.equal(events[1]?.['FunctionName'], 'sayHello');
  assert.match(String(events[1]?.['ScheduledTime']), /^\d{4}-.*Z$/);
  for (const e of events) {
    for (const hidden of ['EventId', 'IsPlayed', 'TaskScheduledId', 'Name', 'OrchestrationInstance', 'Result'])
      assert.ok(!(hidden in e), `${hidden} in ${JSON.stringify(e)}`);
  }
  const withOutput = (await (await durableFetch(host, `instances/${s.id}?showHistory=true&showHistoryOutput=true`)).json()) as Status;
  assert.equal(withOutput.historyEvents?.[1]?.['Result'], 'Hello, Tokyo');
  assert.deepEqual(withOutput.historyEvents?.[4]?.['Result'], ['Hello, Tokyo', 'Hello, Seattle', 'Hello, Cairo']);
  assert.equal(withOutput.historyEvents?.[4]?.['OrchestrationStatus'], 'Completed');
});

test('a failed instance: 200, or 500 with returnInternalServerErrorOnFailure=true', async () => {
  const { body: s } = await start('failingOrchestration');
  const { status } = await finished(host, s.id);
  assert.equal(status, 200);
  const res = await durableFetch(host, `instances/${s.id}?returnInternalServerErrorOnFailure=true`);
  assert.equal(res.status, 500);
  assert.equal(((await res.json()) as Status).runtimeStatus, 'Failed');
});

test('404 for an unknown instance on every instance route; 410 for operations on a finished one', async () => {
  assert.equal((await durableFetch(host, 'instances/nope')).status, 404);
  assert.equal((await durableFetch(host, 'instances/nope', { method: 'DELETE' })).status, 404);
  for (const op of ['terminate', 'suspend', 'resume', 'raiseEvent/x']) assert.equal((await post(`instances/nope/${op}`)).status, 404, op);
  const { body: s } = await start('helloSequence');
  await finished(host, s.id);
  for (const op of ['terminate', 'suspend', 'resume', 'raiseEvent/x']) assert.equal((await post(`instances/${s.id}/${op}`)).status, 410, op);
  assert.equal((await post(`instances/${s.id}/rewind`)).status, 501);
});

test("taskHub= names the task hub: another hub's instances are not here", async () => {
  const { body: s } = await start('helloSequence');
  await finished(host, s.id);
  assert.equal((await durableFetch(host, `instances/${s.id}?taskHub=conformancehub`)).status, 200);
  assert.equal((await durableFetch(host, `instances/${s.id}?taskHub=OtherHub`)).status, 404);
  assert.equal((await durableFetch(host, `orchestrators/helloSequence?taskHub=OtherHub`, { method: 'POST' })).status, 404);
});

test('restart: the restartPostUri starts the orchestration again with its input', async () => {
  const { body: s } = await start('fanOutFanIn', 3);
  await finished(host, s.id);
  const res = await fetch(s.restartPostUri, { method: 'POST' });
  assert.equal(res.status, 202);
  assert.equal(res.headers.get('retry-after'), '10');
  const again = (await res.json()) as CheckStatus;
  assert.notEqual(again.id, s.id);
  const { body } = await finished(host, again.id);
  assert.equal(body.output, 14);
  assert.equal(body.input, 3);
  const same = await fetch(`${s.restartPostUri}&restartWithNewInstanceId=false`, { method: 'POST' });
  assert.equal(same.status, 202);
  assert.equal(((await same.json()) as CheckStatus).id, s.id);
  assert.equal((await finished(host, s.id)).body.output, 14);
  assert.equal((await post('instances/nope/restart')).status, 400);
});

test('purge: a running instance too (200), then it is gone; by filter needs createdTimeFrom', async () => {
  const { body: s } = await start('waitForever');
  await eventually(
    async () => ((await (await durableFetch(host, `instances/${s.id}`)).json()) as Status).runtimeStatus === 'Running' || undefined,
    30_000,
    'Running',
  );
  const purged = await durableFetch(host, `instances/${s.id}`, { method: 'DELETE' });
  assert.equal(purged.status, 200);
  assert.deepEqual(await purged.json(), { instancesDeleted: 1 });
  assert.equal((await durableFetch(host, `instances/${s.id}`)).status, 404);
  assert.equal((await post(`instances/${s.id}/raiseEvent/never`, 1)).status, 404);

  assert.equal((await durableFetch(host, 'instances', { method: 'DELETE' })).status, 400);
  const { body: done } = await start('helloSequence');
  await finished(host, done.id);
  const byFilter = await durableFetch(host, `instances?createdTimeFrom=${encodeURIComponent(new Date(0).toISOString())}&runtimeStatus=Completed`, {
    method: 'DELETE',
  });
  assert.equal(byFilter.status, 200);
  assert.ok(((await byFilter.json()) as { instancesDeleted: number }).instancesDeleted >= 1);
  const none = await durableFetch(host, `instances?createdTimeFrom=${encodeURIComponent(new Date(0).toISOString())}&runtimeStatus=Completed`, {
    method: 'DELETE',
  });
  assert.equal(none.status, 404);
});

test('list: 200 with status objects, top and x-ms-continuation-token paging', async () => {
  for (let i = 0; i < 3; i++) await finished(host, (await start('helloSequence')).body.id);
  // Completed only: the host also holds other tests' failed and terminated instances, whose
  // status carries failureDetails, and the order of a listing does not say which come first.
  const first = await durableFetch(host, 'instances?top=2&runtimeStatus=Completed');
  assert.equal(first.status, 200);
  const page = (await first.json()) as Status[];
  assert.equal(page.length, 2);
  for (const status of page) assert.deepEqual(Object.keys(status).sort(), STATUS_FIELDS);
  const token = first.headers.get('x-ms-continuation-token');
  assert.ok(token);
  const second = (await (
    await durableFetch(host, 'instances?top=2&runtimeStatus=Completed', { headers: { 'x-ms-continuation-token': token } })
  ).json()) as Status[];
  assert.ok(second.length >= 1);
  assert.ok(!second.some((x) => page.some((y) => y.instanceId === x.instanceId)));
});

test('raise event and suspend/resume answer 202', async () => {
  const { body: s } = await start('approvalWorkflow');
  await eventually(
    async () => ((await (await durableFetch(host, `instances/${s.id}`)).json()) as Status).runtimeStatus === 'Running' || undefined,
    30_000,
    'Running',
  );
  assert.equal((await post(`instances/${s.id}/suspend?reason=pause`)).status, 202);
  assert.equal((await post(`instances/${s.id}/resume?reason=go`)).status, 202);
  assert.equal((await post(`instances/${s.id}/raiseEvent/Approval`, 'ok')).status, 202);
  assert.deepEqual((await finished(host, s.id)).body.output, { approved: 'ok' });
});
