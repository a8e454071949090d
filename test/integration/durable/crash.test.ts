import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { eventually, fixtureApp, startHost, type TestHost } from '../../../bench/support/host';
import { durableFetch } from '../../../bench/support/durableApi';
import { EventType, type HistoryEvent } from '../../../src/durable/history';
import { DurableStore } from '../../../src/durable/store';

// kill -9 the host in the middle of a 20-activity chain, restart it on the same data dir:
// the orchestration completes, every step that completed before the kill ran once, and
// the step in flight at the kill ran at most twice (activities are at-least-once).
const hosts: TestHost[] = [];
const dirs: string[] = [];
after(async () => {
  for (const h of hosts) await h.kill();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A data dir and an output dir for one crash scenario, and the host on them. */
function scenario(): { dataDir: string; steps: () => number[]; boot: () => Promise<TestHost> } {
  const dataDir = mkdtempSync(join(tmpdir(), 'durable-crash-data-'));
  const out = mkdtempSync(join(tmpdir(), 'durable-crash-out-'));
  dirs.push(dataDir, out);
  return {
    dataDir,
    steps: () => {
      try {
        return readFileSync(join(out, 'steps.log'), 'utf8').split('\n').filter(Boolean).map(Number);
      } catch {
        return [];
      }
    },
    boot: async () => {
      const h = await startHost({ entry: fixtureApp('durable'), dataDir, settings: { FIXTURE_OUT_DIR: out }, env: { LOG_LEVEL: 'warn' } });
      hosts.push(h);
      return h;
    },
  };
}
const statusOf = async (h: TestHost, id: string) => (await (await durableFetch(h, `instances/${id}`)).json()) as { runtimeStatus: string; output: unknown };
const finished = (h: TestHost, id: string) =>
  eventually(
    async () => {
      const s = await statusOf(h, id);
      return s.runtimeStatus === 'Completed' || s.runtimeStatus === 'Failed' ? s : undefined;
    },
    60_000,
    'the chain to complete after restart',
  );

/** After the restart the chain completes, going on from a step at or before the last one
 * run before the kill: none skipped, none out of order (at-least-once: some redone). */
async function resumesInOrder(host: TestHost, id: string, count: number, steps: () => number[], beforeKill: number[]): Promise<void> {
  const done = await finished(host, id);
  assert.equal(done.runtimeStatus, 'Completed');
  assert.deepEqual(done.output, { steps: count });
  const afterKill = steps().slice(beforeKill.length);
  const resumedAt = afterKill[0] as number;
  assert.ok(resumedAt <= beforeKill.length, `resumed at step ${resumedAt}, after ${beforeKill.length} steps had run`);
  assert.deepEqual(
    afterKill,
    Array.from({ length: count - resumedAt }, (_, i) => resumedAt + i),
  );
}

test('a chain survives kill -9 of the host', async () => {
  const { steps, boot } = scenario();
  const first = await boot();
  const res = await fetch(`${first.url}/api/orchestrators/steps/crash-1`, { method: 'POST', body: JSON.stringify({ count: 20, delayMs: 40 }) });
  assert.equal(res.status, 202);
  await eventually(() => (steps().length >= 7 ? true : undefined), 30_000, 'seven steps');
  first.child.kill('SIGKILL');
  await first.exited;
  const beforeKill = steps();
  assert.ok(beforeKill.length < 20, 'the kill came mid-run');

  const second = await boot();
  const done = await finished(second, 'crash-1');
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

// Steps that take no time: an activity starts while the commit that scheduled it is still
// on its way to the disk, and its result is replayed before that commit lands, so a kill
// finds work in every stage. After the restart the chain goes on from the last step the
// store recorded: no step is skipped, nothing runs out of order, and the steps redone are
// only some of the last ones before the kill (at-least-once).
test('a chain of instant steps survives kill -9 while commits are in flight', async () => {
  const count = 400;
  const { steps, boot } = scenario();
  const first = await boot();
  const res = await fetch(`${first.url}/api/orchestrators/steps/crash-2`, { method: 'POST', body: JSON.stringify({ count, delayMs: 0 }) });
  assert.equal(res.status, 202);
  await eventually(() => (steps().length >= 100 ? true : undefined), 30_000, 'a hundred steps');
  first.child.kill('SIGKILL');
  await first.exited;
  const beforeKill = steps();
  assert.ok(beforeKill.length < count, 'the kill came mid-run');
  assert.deepEqual(
    beforeKill,
    beforeKill.map((_, i) => i),
  );

  await resumesInOrder(await boot(), 'crash-2', count, steps, beforeKill);
});

// A parent hears of a child's end as soon as the child's last episode is written, before
// its commit is on disk (one fsync less on every hop of a chain of sub-orchestrations). The
// parent's own batches are committed after the child's, so whatever a kill leaves in the
// store, a completion in the parent's history is one its child has recorded; after the
// restart the chain goes on from there, in order.
test('a chain of sub-orchestrations survives kill -9 while commits are in flight', async () => {
  const count = 200;
  const { dataDir, steps, boot } = scenario();
  const first = await boot();
  const res = await fetch(`${first.url}/api/orchestrators/subSteps/crash-3`, { method: 'POST', body: JSON.stringify({ count }) });
  assert.equal(res.status, 202);
  await eventually(() => (steps().length >= 50 ? true : undefined), 30_000, 'fifty steps');
  first.child.kill('SIGKILL');
  await first.exited;
  const beforeKill = steps();
  assert.ok(beforeKill.length < count, 'the kill came mid-run');

  const store = new DurableStore(join(dataDir, 'durable', 'durable.db'));
  try {
    const history = store.getHistory('crash-3');
    const childOf = new Map(
      history.flatMap((e: HistoryEvent) => (e.EventType === EventType.SubOrchestrationInstanceCreated ? [[e.EventId, e.InstanceId] as const] : [])),
    );
    const completed = history.flatMap((e) => (e.EventType === EventType.SubOrchestrationInstanceCompleted ? [e.TaskScheduledId] : []));
    assert.ok(completed.length > 0, 'the parent recorded some children');
    for (const taskId of completed) {
      const child = childOf.get(taskId);
      assert.equal(child === undefined ? undefined : store.getInstance(child)?.status, 'Completed', `child of task ${taskId}`);
    }
  } finally {
    store.close();
  }

  await resumesInOrder(await boot(), 'crash-3', count, steps, beforeKill);
});
