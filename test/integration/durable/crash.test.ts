import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { eventually, fixtureApp, startHost, type TestHost } from '../../../bench/support/host';
import { durableFetch } from '../../../bench/support/durableApi';

// kill -9 the host in the middle of a 20-activity chain, restart it on the same data dir:
// the orchestration completes, every step that completed before the kill ran once, and
// the step in flight at the kill ran at most twice (activities are at-least-once).
const dataDir = mkdtempSync(join(tmpdir(), 'durable-crash-data-'));
const out = mkdtempSync(join(tmpdir(), 'durable-crash-out-'));
const hosts: TestHost[] = [];
after(async () => {
  for (const h of hosts) await h.kill();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
});

const steps = (): number[] => {
  try {
    return readFileSync(join(out, 'steps.log'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
};
const boot = async () => {
  const h = await startHost({ entry: fixtureApp('durable'), dataDir, settings: { FIXTURE_OUT_DIR: out }, env: { LOG_LEVEL: 'warn' } });
  hosts.push(h);
  return h;
};
const statusOf = async (h: TestHost, id: string) => (await (await durableFetch(h, `instances/${id}`)).json()) as { runtimeStatus: string; output: unknown };

test('a chain survives kill -9 of the host', async () => {
  const first = await boot();
  const res = await fetch(`${first.url}/api/orchestrators/steps/crash-1`, { method: 'POST', body: JSON.stringify({ count: 20, delayMs: 40 }) });
  assert.equal(res.status, 202);
  await eventually(() => (steps().length >= 7 ? true : undefined), 30_000, 'seven steps');
  first.child.kill('SIGKILL');
  await first.exited;
  const beforeKill = steps();
  assert.ok(beforeKill.length < 20, 'the kill came mid-run');

  const second = await boot();
  const done = await eventually(
    async () => {
      const s = await statusOf(second, 'crash-1');
      return s.runtimeStatus === 'Completed' || s.runtimeStatus === 'Failed' ? s : undefined;
    },
    60_000,
    'the chain to complete after restart',
  );
  assert.equal(done.runtimeStatus, 'Completed');
  assert.deepEqual(done.output, { steps: 20 });

  const counts = new Map<number, number>();
  for (const s of steps()) counts.set(s, (counts.get(s) ?? 0) + 1);
  assert.deepEqual(
    [...counts.keys()].sort((a, b) => a - b),
    Array.from({ length: 20 }, (_, i) => i),
  );
  const twice = [...counts].filter(([, n]) => n > 1);
  assert.ok(twice.length <= 1 && twice.every(([, n]) => n === 2), `ran more than once: ${JSON.stringify(twice)}`);
  // Only the last step written before the kill can have been in flight.
  for (const [step] of twice) assert.equal(step, beforeKill[beforeKill.length - 1]);
  // Steps are sequential: the file is in order apart from that one repeat.
  assert.deepEqual(
    [...new Set(steps())],
    Array.from({ length: 20 }, (_, i) => i),
  );
});
