import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DatasetsApi, TOKENS_OF, hostileSettings, runWorkflow } from './harness';

/**
 * High items 4 and 5 of issue 12 and the file half of the "Low" path leaks: a job leaves a
 * FIFO, a huge file and symlinks in its workspace; the file and log routes must answer
 * without blocking the host, serve only regular files, stream them (Content-Length,
 * Range) instead of loading them, and answer a symlink out of the workspace exactly as a
 * missing file.
 */
const BIG_MIB = 256;
let api: DatasetsApi;
let runId: string;

before(async () => {
  api = await DatasetsApi.start(hostileSettings());
  const run = await runWorkflow(
    api,
    'alice',
    `jobs:\n  - command: ${JSON.stringify(
      `mkfifo fifo && head -c ${BIG_MIB}M /dev/zero > big && printf 0123456789abcdefghij > small && ln -s /etc/passwd host-link && ln -s /no/such/file dangling && mkdir dir && seq 1 20000`,
    )}\n`,
  );
  assert.equal(run.status, 'Succeeded', JSON.stringify(run.view));
  runId = run.id;
});
after(async () => {
  await api?.host.kill();
});

// A deadline only so that a hung host fails the test instead of stalling the suite; generous,
// as the machine is shared.
const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${api.host.url}/api/workflows/${runId}/${path}`, {
    headers: { authorization: `Bearer ${TOKENS_OF.alice}`, ...headers },
    signal: AbortSignal.timeout(120_000),
  });

test('a FIFO in the workspace is not a file, and reading it blocks nobody', async () => {
  const pending = Array.from({ length: 5 }, () => get('files/fifo'));
  const health = await fetch(`${api.host.url}/api/health`, { signal: AbortSignal.timeout(60_000) });
  assert.equal(health.status, 200);
  for (const r of await Promise.all(pending)) {
    assert.equal(r.status, 404);
    await r.arrayBuffer();
  }
  assert.equal((await get('files/dir')).status, 404);
});

test('a symlink out of the workspace answers exactly like a missing file', async () => {
  const [link, dangling, missing] = await Promise.all([get('files/host-link'), get('files/dangling'), get('files/no-such-file')]);
  const bodies = await Promise.all(
    [link, dangling, missing].map(async (r) => ({ status: r.status, body: ((await r.json()) as { error: { code: string; message: string } }).error })),
  );
  assert.equal(bodies[0]!.status, 404);
  const shape = (b: (typeof bodies)[number]) => ({
    status: b.status,
    code: b.body.code,
    message: b.body.message.replace(/host-link|dangling|no-such-file/, '<path>'),
  });
  assert.deepEqual(shape(bodies[0]!), shape(bodies[2]!));
  assert.deepEqual(shape(bodies[1]!), shape(bodies[2]!));
  assert.doesNotMatch(JSON.stringify(bodies), /passwd|\/etc|\/no\/such/);
});

test('files are streamed with Content-Length and Range, not loaded into the host', async () => {
  const hwm = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${api.host.child.pid}/status`, 'utf8'))![1]) * 1024;
  const before = hwm();
  const big = await get('files/big');
  assert.equal(big.status, 200);
  assert.equal(big.headers.get('content-length'), String(BIG_MIB * 1024 * 1024));
  assert.equal(big.headers.get('accept-ranges'), 'bytes');
  let received = 0;
  for await (const chunk of big.body!) received += (chunk as Uint8Array).byteLength;
  assert.equal(received, BIG_MIB * 1024 * 1024);
  const grown = hwm() - before;
  assert.ok(grown < (BIG_MIB / 2) * 1024 * 1024, `the host grew by ${Math.round(grown / 2 ** 20)} MiB serving a ${BIG_MIB} MiB file`);

  const part = await get('files/small', { range: 'bytes=10-14' });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), 'bytes 10-14/20');
  assert.equal(part.headers.get('content-length'), '5');
  assert.equal(await part.text(), 'abcde');
  const tail = await get('files/small', { range: 'bytes=-3' });
  assert.equal(await tail.text(), 'hij');
  const beyond = await get('files/small', { range: 'bytes=50-60' });
  assert.equal(beyond.status, 416);
  assert.equal(beyond.headers.get('content-range'), 'bytes */20');
  await beyond.arrayBuffer();
});

test('logs are streamed with Content-Length and Range too', async () => {
  const full = await get('jobs/job-1/logs');
  assert.equal(full.status, 200);
  const text = await full.text();
  assert.equal(full.headers.get('content-length'), String(Buffer.byteLength(text)));
  assert.match(text, /^1\n2\n/);
  const part = await get('jobs/job-1/logs', { range: 'bytes=0-3' });
  assert.equal(part.status, 206);
  assert.equal(await part.text(), '1\n2\n');
});
