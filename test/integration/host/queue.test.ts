import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueueStore } from '../../../src/host/queue/queueStore';
import { eventually, fixtureApp, readJsonLines, startHost, type TestHost } from '../../../bench/support/host';

const hostJson = {
  version: '2.0',
  extensions: { queues: { maxDequeueCount: 2, visibilityTimeout: '00:00:00', maxPollingInterval: '00:00:00.200' } },
};

let host: TestHost;
let outDir: string;

before(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'lf-out-'));
  host = await startHost({ entry: fixtureApp('basic'), hostJson, settings: { FIXTURE_OUT_DIR: outDir } });
});
after(async () => {
  await host.kill();
  rmSync(outDir, { recursive: true, force: true });
});

test('an output binding enqueues; the queue trigger runs with metadata; its return value enqueues again', async () => {
  const res = await fetch(`${host.url}/api/enqueue`, { method: 'POST', body: JSON.stringify({ n: 1 }) });
  assert.equal(res.status, 202);
  await res.arrayBuffer();

  const [item] = await eventually(
    () => {
      const lines = readJsonLines(join(outDir, 'work-items.jsonl'));
      return lines.length > 0 ? lines : undefined;
    },
    20_000,
    'the work-items trigger',
  );
  assert.deepEqual(item?.['message'], { n: 1 });
  const metadata = item?.['metadata'] as Record<string, unknown>;
  assert.equal(metadata['dequeueCount'], 1);
  assert.match(String(metadata['id']), /^[0-9a-f-]{36}$/);
  assert.ok(!Number.isNaN(Date.parse(String(metadata['insertionTime']))));
  assert.ok(!Number.isNaN(Date.parse(String(metadata['expirationTime']))));

  const [done] = await eventually(
    () => {
      const lines = readJsonLines(join(outDir, 'work-done.jsonl'));
      return lines.length > 0 ? lines : undefined;
    },
    20_000,
    'the work-done trigger',
  );
  assert.deepEqual(done?.['message'], { done: { n: 1 } });
});

test('a message that always fails is tried maxDequeueCount times, then moved to <queue>-poison', async () => {
  const res = await fetch(`${host.url}/api/enqueue-failing`, { method: 'POST', body: 'doomed' });
  assert.equal(res.status, 202);
  const [poisoned] = await eventually(
    () => {
      const lines = readJsonLines(join(outDir, 'poisoned.jsonl'));
      return lines.length > 0 ? lines : undefined;
    },
    20_000,
    'the poison queue trigger',
  );
  assert.equal(poisoned?.['message'], 'doomed');
  const attempts = readJsonLines(join(outDir, 'always-fails.jsonl'));
  assert.deepEqual(
    attempts.map((a) => a['dequeueCount']),
    [1, 2],
  );
});

test('host code can enqueue into the data dir queues (another process, same SQLite)', async () => {
  const store = new QueueStore(host.dataDir);
  try {
    store.enqueue('work-items', { from: 'test' });
  } finally {
    store.close();
  }
  await eventually(
    () => readJsonLines(join(outDir, 'work-items.jsonl')).find((l) => JSON.stringify(l['message']) === '{"from":"test"}'),
    20_000,
    'the message enqueued from outside',
  );
});

test('a message whose host died mid-run is delivered again after restart (at least once)', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lf-data-'));
  const out = mkdtempSync(join(tmpdir(), 'lf-out-'));
  t.after(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  });
  const first = await startHost({ entry: fixtureApp('basic'), hostJson, dataDir, settings: { FIXTURE_OUT_DIR: out } });
  // Killed by the test itself; this is for a failure before that, which left it running.
  t.after(() => first.kill());
  const store = new QueueStore(dataDir);
  store.enqueue('slow-work', { ms: 60_000 });
  store.close();
  await eventually(() => readJsonLines(join(out, 'slow-work.jsonl'))[0], 20_000, 'the first delivery');
  await first.stop('SIGKILL');

  const second = await startHost({ entry: fixtureApp('basic'), hostJson, dataDir, settings: { FIXTURE_OUT_DIR: out } });
  t.after(() => second.kill());
  const again = await eventually(() => readJsonLines(join(out, 'slow-work.jsonl'))[1], 20_000, 'the second delivery');
  assert.equal(again['dequeueCount'], 2);
});

test('two hosts on different data dirs and ports do not share queues', async (t) => {
  const otherOut = mkdtempSync(join(tmpdir(), 'lf-out-'));
  t.after(() => rmSync(otherOut, { recursive: true, force: true }));
  const other = await startHost({ entry: fixtureApp('basic'), hostJson, settings: { FIXTURE_OUT_DIR: otherOut } });
  t.after(() => other.kill());
  assert.notEqual(other.port, host.port);

  const res = await fetch(`${other.url}/api/enqueue`, { method: 'POST', body: JSON.stringify({ only: 'other' }) });
  assert.equal(res.status, 202);
  await eventually(() => readJsonLines(join(otherOut, 'work-done.jsonl'))[0], 20_000, 'the other host to finish its message');
  const mine = readJsonLines(join(outDir, 'work-items.jsonl')).filter((l) => JSON.stringify(l['message']) === '{"only":"other"}');
  assert.deepEqual(mine, []);
});
