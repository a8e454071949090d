import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { HttpRequest, InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { DurableClient, OrchestrationContext } from 'durable-functions';
import { clientConfig } from '../../../src/durable/clientConfig';
import { DurableEngine } from '../../../src/durable/engine';
import { EventType } from '../../../src/durable/history';
import { createHttpApi } from '../../../src/durable/httpApi';
import { DurableStore } from '../../../src/durable/store';
import { newSecret } from '../../../src/durable/systemKey';
import { directPort } from '../../../bench/support/durableDirectPort';
import { eventually } from '../../../bench/support/host';

// The SDK's own DurableClient, given the binding data the host would give it, against the
// management API served over real HTTP.
let server: Server;
let engine: DurableEngine;
let store: DurableStore;
let client: DurableClient;
let origin: string;
const dir = mkdtempSync(join(tmpdir(), 'durable-http-'));
const secrets = { systemKey: newSecret(), rpcSecret: newSecret() };
const api = `/runtime/webhooks/durabletask`;

before(async () => {
  store = new DurableStore(join(dir, 'durable.db'));
  engine = new DurableEngine({
    store,
    functions: directPort(
      {
        echo: function* (ctx: OrchestrationContext) {
          return yield ctx.df.callActivity('upper', ctx.df.getInput());
        },
        waitForGo: function* (ctx: OrchestrationContext) {
          const v = yield ctx.df.waitForExternalEvent('go');
          return v;
        },
      },
      { upper: (x) => String(x).toUpperCase() },
    ),
  });
  engine.start();
  server = createServer((req, res) => void handler.serve(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const handler = createHttpApi({ engine, taskHub: 'testhub', origin, secrets });
  const binding = df.input.durableClient();
  const ctx = new InvocationContext({ functionName: 'starter', invocationId: 'x', options: { extraInputs: [binding] } });
  ctx.extraInputs.set(binding, clientConfig(origin, 'testhub', secrets));
  client = df.getClient(ctx);
});

after(async () => {
  server.close();
  await engine.stop();
  engine.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('startNew, status, check-status response, wait for completion', async () => {
  const id = await client.startNew('echo', { input: 'abc' });
  const request = new HttpRequest({ url: `${origin}/api/start`, method: 'POST' });
  const waited = await client.waitForCompletionOrCreateCheckStatusResponse(request, id, { timeoutInMilliseconds: 10_000, retryIntervalInMilliseconds: 20 });
  assert.equal(waited.status, 200);
  assert.equal(await waited.text(), JSON.stringify('ABC'));
  const status = await client.getStatus(id, { showHistory: true, showHistoryOutput: true });
  assert.equal(status.runtimeStatus, 'Completed');
  assert.equal(status.input, 'abc');
  // As on Azure: the API sends `historyEvents`, the SDK's status type reads `history`.
  assert.equal(status.history, undefined);
  const check = client.createCheckStatusResponse(request, id);
  assert.equal(check.status, 202);
  const links = (await check.json()) as { statusQueryGetUri: string; id: string };
  assert.equal(links.id, id);
  // As on Azure, the check-status links carry the system key: they are capabilities.
  assert.equal(new URL(links.statusQueryGetUri).searchParams.get('code'), secrets.systemKey);
  const viaLink = await fetch(links.statusQueryGetUri);
  assert.equal(viaLink.status, 200);
});

test('raise event, terminate, suspend/resume, list, purge', async () => {
  const a = await client.startNew('waitForGo', { instanceId: 'inst-a' });
  assert.equal(a, 'inst-a');
  await assert.rejects(client.startNew('waitForGo', { instanceId: 'inst-a' }));
  await client.suspend(a, 'pause');
  await eventually(async () => (await client.getStatus(a)).runtimeStatus === 'Suspended' || undefined, 10_000, 'inst-a to be suspended');
  // raiseEvent is answered once the engine committed the event, by the episode that took it
  // up: had that episode admitted it, the run would have completed in the same commit. So the
  // state is settled now, no waiting: still suspended, the event kept outside its history.
  await client.raiseEvent(a, 'go', { n: 1 });
  assert.equal((await client.getStatus(a)).runtimeStatus, 'Suspended');
  assert.ok(!engine.getStatus(a, { showHistory: true })!.history!.some((e) => e.EventType === EventType.EventRaised));
  await client.resume(a, 'go on');
  await eventually(async () => (await client.getStatus(a)).runtimeStatus === 'Completed' || undefined, 10_000, 'inst-a to complete');
  assert.deepEqual((await client.getStatus(a)).output, { n: 1 });

  const b = await client.startNew('waitForGo', { instanceId: 'inst-b' });
  await client.terminate(b, 'no longer needed');
  await eventually(async () => (await client.getStatus(b)).runtimeStatus === 'Terminated' || undefined, 10_000, 'inst-b to be terminated');
  await client.terminate(b, 'again'); // 410 is accepted by the SDK

  const done = await client.getStatusBy({ runtimeStatus: [df.OrchestrationRuntimeStatus.Completed, df.OrchestrationRuntimeStatus.Terminated] });
  assert.ok(done.some((s) => s.instanceId === 'inst-a') && done.some((s) => s.instanceId === 'inst-b'));
  const all = await client.getStatusAll();
  assert.ok(all.length >= 2);

  assert.equal((await client.purgeInstanceHistory('inst-a')).instancesDeleted, 1);
  await assert.rejects(client.getStatus('inst-a'), /404/);
  const purged = await client.purgeInstanceHistoryBy({
    createdTimeFrom: new Date(0),
    runtimeStatus: [df.OrchestrationRuntimeStatus.Terminated],
  });
  assert.equal(purged.instancesDeleted, 1);
  await assert.rejects(client.raiseEvent('missing', 'go', 1), /No instance/);
});

test('the create-and-wait URL answers with the output', async () => {
  const res = await fetch(`${origin}${api}/orchestrators/echo?timeout=10&pollingInterval=0.01&code=${secrets.systemKey}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '"wait for me"',
  });
  assert.equal(res.status, 200);
  assert.equal(await res.json(), 'WAIT FOR ME');
});

test('paging follows continuation tokens', async () => {
  for (let i = 0; i < 5; i++) await client.startNew('echo', { instanceId: `page-${i}`, input: i });
  const res = await fetch(`${origin}${api}/instances?top=2&instanceIdPrefix=page-`, { headers: { 'x-functions-key': secrets.systemKey } });
  assert.equal(res.status, 200);
  assert.ok(res.headers.get('x-ms-continuation-token'));
  assert.equal(((await res.json()) as unknown[]).length, 2);
  const all = await client.getStatusBy({});
  assert.ok(all.filter((s) => s.instanceId.startsWith('page-')).length === 5);
});

test('without the system key every webhook operation is refused, and nothing happens', async () => {
  const id = await client.startNew('waitForGo', { instanceId: 'guarded' });
  const wrong = newSecret();
  const attempts: [string, string][] = [
    ['GET', `instances/${id}`],
    ['GET', `instances/${id}?showHistory=true&showInput=true`],
    ['POST', `instances/${id}/raiseEvent/go`],
    ['POST', `instances/${id}/terminate?reason=x`],
    ['POST', `instances/${id}/suspend`],
    ['GET', 'instances'],
    ['DELETE', `instances/${id}`],
    ['DELETE', 'instances?createdTimeFrom=1970-01-01T00:00:00Z'],
    ['POST', 'orchestrators/echo'],
  ];
  for (const [method, path] of attempts) {
    const sep = path.includes('?') ? '&' : '?';
    const tries: { url: string; headers: Record<string, string> }[] = [
      { url: `${origin}${api}/${path}`, headers: {} },
      { url: `${origin}${api}/${path}${sep}code=${wrong}`, headers: {} },
      { url: `${origin}${api}/${path}${sep}code=`, headers: {} },
      { url: `${origin}${api}/${path}`, headers: { 'x-functions-key': wrong } },
      { url: `${origin}${api}/${path}${sep}code=${secrets.systemKey.slice(0, -1)}`, headers: {} },
    ];
    for (const init of tries) {
      const res = await fetch(init.url, {
        method,
        headers: { 'content-type': 'application/json', ...init.headers },
        ...(method === 'POST' ? { body: '"done"' } : {}),
      });
      const text = await res.text();
      assert.equal(res.status, 401, `${method} ${init.url}`);
      assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, 'unauthenticated');
      assert.ok(!text.includes(secrets.systemKey) && !text.includes(secrets.rpcSecret), 'no secret in the refusal');
    }
  }
  // The instance is untouched: still waiting, and the right key (query or header) works.
  const status = await fetch(`${origin}${api}/instances/${id}?code=${encodeURIComponent(secrets.systemKey)}`);
  assert.equal(status.status, 202);
  assert.equal(((await status.json()) as { runtimeStatus: string }).runtimeStatus, 'Running');
  const raised = await fetch(`${origin}${api}/instances/${id}/raiseEvent/go`, {
    method: 'POST',
    headers: { 'x-functions-key': secrets.systemKey, 'content-type': 'application/json' },
    body: '"now"',
  });
  assert.equal(raised.status, 202);
  await eventually(async () => (await client.getStatus(id)).runtimeStatus === 'Completed' || undefined, 10_000, 'the instance to complete');
  assert.equal((await client.getStatus(id)).output, 'now');
});

test("the rpc paths answer only under this process's secret", async () => {
  const id = await client.startNew('waitForGo', { instanceId: 'rpc-guarded' });
  for (const base of [`${api}/rpc/${newSecret()}`, `${api}/rpc`, `${api}/rpc/${secrets.rpcSecret.slice(1)}`, `${api}/rpc/x/${secrets.rpcSecret}`]) {
    for (const [method, path] of [
      ['GET', `instances/${id}`],
      ['POST', `instances/${id}/raiseEvent/go`],
      ['POST', `instances/${id}/terminate`],
      ['GET', 'instances'],
    ] as const) {
      // Not even the system key opens a wrong rpc path.
      const res = await fetch(`${origin}${base}/${path}?code=${secrets.systemKey}`, { method, ...(method === 'POST' ? { body: '1' } : {}) });
      const text = await res.text();
      assert.equal(res.status, 404, `${method} ${base}/${path}`);
      assert.ok(!text.includes(secrets.rpcSecret) && !text.includes(secrets.systemKey));
    }
  }
  assert.equal((await client.getStatus(id)).runtimeStatus, 'Running');
  const right = await fetch(`${origin}${api}/rpc/${secrets.rpcSecret}/instances/${id}`);
  assert.equal(right.status, 202);
  await client.terminate(id, 'done');
});
