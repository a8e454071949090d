import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureApp, startHost, type TestHost } from '../../../bench/support/host';

let host: TestHost;
let outDir: string;

before(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'lf-out-'));
  host = await startHost({
    entry: fixtureApp('basic'),
    settings: { FIXTURE_OUT_DIR: outDir },
    env: { LEDGERFLOW_MAX_BODY_BYTES: '1024' },
  });
});
after(async () => {
  await host.kill();
  rmSync(outDir, { recursive: true, force: true });
});

const json = async (res: Response) => (await res.json()) as Record<string, unknown>;

test('route parameters, query and body reach the function', async () => {
  const res = await fetch(`${host.url}/api/items/42?x=1&y=two`, { method: 'POST', body: 'hello' });
  assert.equal(res.status, 200);
  assert.deepEqual(await json(res), {
    method: 'POST',
    params: { id: '42' },
    query: { x: '1', y: 'two' },
    body: 'hello',
    principal: null,
  });
});

test('literal routes win over parameters; catch-all and optional parameters', async () => {
  assert.deepEqual(await json(await fetch(`${host.url}/api/items`)), { list: true });
  assert.deepEqual(await json(await fetch(`${host.url}/api/files/a/b%20c/d.txt`)), { path: 'a/b c/d.txt' });
  assert.deepEqual(await json(await fetch(`${host.url}/api/files`)), { path: null });
  assert.deepEqual(await json(await fetch(`${host.url}/api/opt`)), { name: null });
  assert.deepEqual(await json(await fetch(`${host.url}/api/opt/zed`)), { name: 'zed' });
  assert.deepEqual(await json(await fetch(`${host.url}/api/typed/7`)), { n: 7 });
  assert.equal((await fetch(`${host.url}/api/typed/seven`)).status, 404);
});

test('unknown routes are 404 and wrong methods 405, as JSON errors', async () => {
  const missing = await fetch(`${host.url}/api/nothing/here`);
  assert.equal(missing.status, 404);
  assert.equal(((await json(missing))['error'] as Record<string, unknown>)['code'], 'not_found');
  const outside = await fetch(`${host.url}/elsewhere`);
  assert.equal(outside.status, 404);
  await outside.arrayBuffer();

  const wrong = await fetch(`${host.url}/api/items/1`, { method: 'DELETE' });
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get('allow'), 'GET, POST, PUT');
  assert.equal(((await json(wrong))['error'] as Record<string, unknown>)['code'], 'method_not_allowed');

  // A segment that does not URI-decode (a cut UTF-8 sequence), and mixed case on a literal route.
  const malformed = await fetch(`${host.url}/api/items/%E0%A4%A`);
  assert.equal(malformed.status, 400);
  assert.equal(((await json(malformed))['error'] as Record<string, unknown>)['code'], 'bad_request');
  assert.deepEqual(await json(await fetch(`${host.url}/api/ITEMS`)), { list: true });
});

test('a body over the limit gets 413', async () => {
  const res = await fetch(`${host.url}/api/items/1`, { method: 'POST', body: 'x'.repeat(2048) });
  assert.equal(res.status, 413);
  assert.equal(((await json(res))['error'] as Record<string, unknown>)['code'], 'payload_too_large');
  const ok = await fetch(`${host.url}/api/items/1`, { method: 'POST', body: 'x'.repeat(1000) });
  assert.equal(ok.status, 200);
  await ok.arrayBuffer();
});

test('status, headers, cookies and stream bodies are written back', async () => {
  const res = await fetch(`${host.url}/api/cookies`);
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('x-fixture'), 'yes');
  assert.equal(res.headers.get('set-cookie'), 'session=a%20b; Path=/; HttpOnly; SameSite=Strict');
  assert.equal(await res.text(), 'created');
  assert.equal(await (await fetch(`${host.url}/api/stream`)).text(), 'chunk-1,chunk-2');
});

test('a function that throws gives a generic 500; the cause is only logged', async () => {
  const res = await fetch(`${host.url}/api/crash`);
  assert.equal(res.status, 500);
  const text = await res.text();
  assert.doesNotMatch(text, /secret internal detail/);
  assert.deepEqual(JSON.parse(text), { error: { code: 'internal', message: 'internal error' } });
  await host.waitForLog((l) => l['functionName'] === 'crash' && JSON.stringify(l).includes('secret internal detail'));
});

test('context.log reaches the host log with function name and invocation id', async () => {
  const { invocationId } = (await json(await fetch(`${host.url}/api/logme`))) as { invocationId: string };
  const line = await host.waitForLog((l) => typeof l['msg'] === 'string' && l['msg'].includes('marker-from-user-code'));
  assert.equal(line['functionName'], 'logme');
  assert.equal(line['invocationId'], invocationId);
  assert.equal(line['category'], 'user');
  assert.equal(line['msg'], 'marker-from-user-code 42');
});

test('a client cannot pose as an App Service principal', async () => {
  const res = await fetch(`${host.url}/api/items/1`, { headers: { 'x-ms-client-principal': 'eyJmYWtlIjp0cnVlfQ==' } });
  assert.equal(((await json(res)) as { principal: unknown }).principal, null);
});

test('settings come from local.settings.json, and the environment wins', async () => {
  assert.deepEqual(await json(await fetch(`${host.url}/api/settings/FIXTURE_OUT_DIR`)), { value: outDir });
  assert.deepEqual(await json(await fetch(`${host.url}/api/settings/LEDGERFLOW_MAX_BODY_BYTES`)), { value: '1024' });
});
