import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { durableFetch } from '../../../bench/support/durableApi';
import { fixtureApp, runHostToExit, startHost, type TestHost } from '../../../bench/support/host';

let host: TestHost;
before(async () => {
  host = await startHost({ entry: fixtureApp('bindings') });
});
after(async () => {
  await host?.kill();
});

test('the start lists what will not run locally and why', () => {
  const err = host.stderr();
  assert.match(err, /These functions use bindings the embedded host has no extension for/);
  assert.match(err, /withBlobOutput\s+output binding type "blob"\s+each invocation fails \(HTTP 501\)/);
  assert.match(err, /onBlob\s+trigger type "blobTrigger"\s+never triggered/);
  assert.match(err, /readConfig\s+input binding type "blob"\s+each invocation fails/);
  assert.doesNotMatch(err, /\bplain\b/);
});

test('invoking such a function answers 501 naming the binding; others run', async () => {
  assert.equal((await fetch(`${host.url}/api/plain`)).status, 200);
  const res = await fetch(`${host.url}/api/with-blob`);
  assert.equal(res.status, 501);
  const body = (await res.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'not_implemented');
  assert.match(body.error.message, /withBlobOutput.*output binding type "blob"/);
});

test('an orchestration calling such an activity fails with a message naming the binding', async () => {
  const started = (await (await fetch(`${host.url}/api/start`, { method: 'POST' })).json()) as { id: string };
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await durableFetch(host, `instances/${started.id}`);
    const s = (await res.json()) as { runtimeStatus: string; output: unknown };
    if (s.runtimeStatus === 'Failed') {
      assert.match(String(s.output), /readConfig.*input binding type "blob".*not support/);
      break;
    }
    assert.ok(Date.now() < deadline, `still ${s.runtimeStatus}`);
    await new Promise((r) => setTimeout(r, 25));
  }
});

test('LEDGERFLOW_STRICT_BINDINGS=true refuses to start, naming the functions', async () => {
  const r = await runHostToExit({ entry: fixtureApp('bindings'), env: { LEDGERFLOW_STRICT_BINDINGS: 'true' } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /LEDGERFLOW_STRICT_BINDINGS=true/);
  assert.match(r.stderr, /withBlobOutput\s+output binding type "blob"/);
});
