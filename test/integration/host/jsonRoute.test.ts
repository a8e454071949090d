import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningHost } from '../../../src/host/host';
import { fixtureApp } from '../../../bench/support/host';
import { startInProcessHost } from '../../helpers/inProcessApp';

// In-process host: functions/http/jsonRoute.ts and errorResponse.ts over real HTTP.
let host: RunningHost;
let stop: () => Promise<void>;

before(async () => {
  // As the ledgerflow app's host.json: jsonRoute puts its routes under `api/` itself.
  ({ host, stop } = await startInProcessHost(fixtureApp('jsonroutes'), { hostJson: { version: '2.0', extensions: { http: { routePrefix: '' } } } }));
});
after(() => stop());

const post = (body: string) => fetch(`${host.url}/api/widgets`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });

test('a valid body reaches the handler parsed; the reply status and JSON are written', async () => {
  const res = await post(JSON.stringify({ name: 'w', size: 2 }));
  assert.equal(res.status, 201);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  assert.deepEqual(await res.json(), { created: { name: 'w', size: 2 } });
});

test('an invalid body is 400 validation_failed listing every issue with its path', async () => {
  const res = await post(JSON.stringify({ name: '', size: -1 }));
  assert.equal(res.status, 400);
  const { error } = (await res.json()) as { error: { code: string; details: { path: string }[] } };
  assert.equal(error.code, 'validation_failed');
  assert.deepEqual(error.details.map((d) => d.path).sort(), ['name', 'size']);
});

test('malformed JSON is 400 bad_request', async () => {
  const res = await post('{nope');
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'bad_request');
});

test('LedgerflowErrors map to their status with data; unknown errors are a generic 500', async () => {
  const held = await fetch(`${host.url}/api/widgets/held`);
  assert.equal(held.status, 409);
  assert.deepEqual(await held.json(), { error: { holder: 'bob', code: 'lease_held', message: 'the widget is held' } });
  const boom = await fetch(`${host.url}/api/widgets/boom`);
  assert.equal(boom.status, 500);
  assert.deepEqual(await boom.json(), { error: { code: 'internal', message: 'internal error' } });
});

test('params and query reach the handler; an empty reply is 204', async () => {
  assert.deepEqual(await (await fetch(`${host.url}/api/widgets/7?q=x`)).json(), { id: '7', q: 'x' });
  const none = await fetch(`${host.url}/api/widgets/none`);
  assert.equal(none.status, 204);
});
