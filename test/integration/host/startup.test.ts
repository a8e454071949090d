import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runHostToExit, startHost } from '../../helpers/host';

test('the ledgerflow app answers GET /api/health with the adapters in use', async (t) => {
  const host = await startHost({ settings: { COMPUTE: 'local', STORAGE: 'local' } });
  t.after(() => host.kill());
  const res = await fetch(`${host.url}/api/health`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as Record<string, unknown>;
  assert.equal(body['status'], 'ok');
  assert.match(String(body['version']), /^\d+\.\d+\.\d+/);
  assert.deepEqual(body['adapters'], {
    ledger: 'embedded',
    keyStore: 'file',
    storage: 'local',
    compute: 'local',
    durable: 'embedded',
    host: 'embedded',
  });
  assert.match(host.stdout(), /ledgerflow host ready at http:\/\/127\.0\.0\.1:\d+ \(\d+ functions\)/);
});

test('a bad setting in local.settings.json stops the host with one clear message', async () => {
  const { code, stderr } = await runHostToExit({ settings: { COMPUTE: 'mainframe' } });
  assert.equal(code, 1);
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0] as string, /^ledgerflow host: invalid setting COMPUTE: /);
  assert.doesNotMatch(stderr, /\n\s+at /);
});

test('a bad setting in the environment is reported the same way', async () => {
  const { code, stderr } = await runHostToExit({ env: { LEDGERFLOW_MAX_BODY_BYTES: 'lots' } });
  assert.equal(code, 1);
  assert.match(stderr, /^ledgerflow host: invalid setting LEDGERFLOW_MAX_BODY_BYTES: /);
});

test('two hosts cannot share a data dir', async (t) => {
  const first = await startHost();
  t.after(() => first.kill());
  const { code, stderr } = await runHostToExit({ dataDir: first.dataDir });
  assert.equal(code, 1);
  assert.match(stderr, /in use by another host/);
});
