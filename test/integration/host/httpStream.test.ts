import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureApp, startHost, type TestHost } from '../../../bench/support/host';

let host: TestHost;

before(async () => {
  host = await startHost({ entry: fixtureApp('streaming'), env: { LEDGERFLOW_MAX_BODY_BYTES: '1024' } });
});
after(async () => {
  await host.kill();
});

const json = async (res: Response) => (await res.json()) as Record<string, unknown>;

test('a streamed function sees the request as on Azure: method, URL, route parameters, query, headers, body', async () => {
  const res = await fetch(`${host.url}/api/echo/42?x=1&x=2`, {
    method: 'POST',
    headers: { 'x-custom': 'yes', 'x-ms-client-principal': 'forged' },
    body: 'hello',
  });
  assert.equal(res.status, 202);
  const seen = await json(res);
  assert.deepEqual(seen, {
    method: 'POST',
    url: `${host.url}/api/echo/42?x=1&x=2`,
    params: { id: '42' },
    query: { x: '2' },
    body: 'hello',
    custom: 'yes',
    // A client cannot pose as a principal App Service authenticated.
    principal: null,
    invocation: null,
  });
});

test("the function's status, headers and cookies come back; the worker's invocation id and hop-by-hop headers do not", async () => {
  const res = await fetch(`${host.url}/api/echo/1`);
  assert.equal(res.status, 202);
  assert.equal(res.headers.get('x-fixture'), 'yes');
  assert.equal(res.headers.get('set-cookie'), 'session=a%20b; Path=/; HttpOnly; SameSite=Strict');
  assert.equal(res.headers.get('x-ms-invocation-id'), null);
  assert.notEqual(res.headers.get('connection'), 'close');
  await res.arrayBuffer();
});

test('a body over the limit gets 413 before the function runs', async () => {
  const res = await fetch(`${host.url}/api/echo/1`, { method: 'POST', body: 'x'.repeat(2048) });
  assert.equal(res.status, 413);
  await res.arrayBuffer();
});

test('a response body reaches the client as the function produces it', { timeout: 60_000 }, async () => {
  const res = await fetch(`${host.url}/api/gated`);
  assert.equal(res.status, 200);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  // The function writes its second chunk only after /api/release: were the body buffered
  // until the function finished, this read would never return.
  const first = await reader.read();
  assert.equal(decoder.decode(first.value), 'first,');
  assert.equal((await fetch(`${host.url}/api/release`, { method: 'POST' })).status, 204);
  let rest = '';
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += decoder.decode(chunk.value, { stream: true });
  assert.equal(rest, 'second');
});

test('a client that goes away mid-stream leaves the host serving', { timeout: 60_000 }, async () => {
  const abort = new AbortController();
  const res = await fetch(`${host.url}/api/gated`, { signal: abort.signal });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  await reader.read();
  abort.abort();
  // The function writes its last chunk to a client that is gone.
  assert.equal((await fetch(`${host.url}/api/release`, { method: 'POST' })).status, 204);
  const after = await fetch(`${host.url}/api/echo/2`);
  assert.equal(after.status, 202);
  await after.arrayBuffer();
});

test('a function that throws gives a generic 500; the cause stays in the log', async () => {
  const res = await fetch(`${host.url}/api/throws`);
  assert.equal(res.status, 500);
  const text = await res.text();
  assert.doesNotMatch(text, /kaput|internal\/path/);
  assert.equal((JSON.parse(text) as { error: { code: string } }).error.code, 'internal');
});
