import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runHostToExit, startHost } from '../../../bench/support/host';
import { detectSandbox } from '../../../src/adapters/compute/local/sandbox';

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
  // The sandbox local jobs run in, as this machine offers it.
  const compute = body['compute'] as { backend: string; sandbox: string; description: string };
  assert.equal(compute.backend, 'local');
  assert.equal(compute.sandbox, detectSandbox('auto').kind ?? 'none');
  assert.match(compute.description, /no network/);
});

test('health names the sandbox LOCAL_SANDBOX chose, and says degraded when none works', async (t) => {
  const health = async (options: Parameters<typeof startHost>[0]) => {
    const host = await startHost(options);
    t.after(() => host.kill());
    const res = await fetch(`${host.url}/api/health`);
    assert.equal(res.status, 200);
    return (await res.json()) as { status: string; compute: { backend: string; sandbox: string; description: string } };
  };
  if (detectSandbox('unshare').kind === 'unshare') {
    const body = await health({ settings: { COMPUTE: 'local', LOCAL_SANDBOX: 'unshare' } });
    assert.deepEqual([body.status, body.compute.sandbox], ['ok', 'unshare']);
  }
  // Neither bwrap nor unshare on PATH: the host runs, but local jobs cannot.
  const none = await health({ settings: { COMPUTE: 'local' }, env: { PATH: '/nonexistent' } });
  assert.deepEqual([none.status, none.compute.backend, none.compute.sandbox], ['degraded', 'local', 'none']);
  assert.match(none.compute.description, /install bubblewrap/);
  const k8s = await health({ settings: { COMPUTE: 'kubernetes' } });
  assert.deepEqual([k8s.status, k8s.compute], ['ok', { backend: 'kubernetes' }]);
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
