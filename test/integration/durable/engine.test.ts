import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import * as df from 'durable-functions';
import type { OrchestrationContext } from 'durable-functions';
import { LedgerflowError } from '../../../src/core/errors';
import { DurableEngine } from '../../../src/durable/engine';
import { EventType } from '../../../src/durable/history';
import { DurableStore } from '../../../src/durable/store';
import { directPort, type ActivityFn } from '../../../bench/support/durableDirectPort';
import { eventually } from '../../../bench/support/host';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function setup(orchestrators: Record<string, df.OrchestrationHandler>, activities: Record<string, ActivityFn>, dir?: string) {
  const dataDir = dir ?? mkdtempSync(join(tmpdir(), 'durable-'));
  dirs.push(dataDir);
  const store = new DurableStore(join(dataDir, 'durable.db'));
  const engine = new DurableEngine({ store, functions: directPort(orchestrators, activities), maxConcurrentActivities: 8 });
  engine.start();
  return { engine, store, dataDir };
}

const done = (engine: DurableEngine, id: string) =>
  eventually(() => {
    const s = engine.getStatus(id);
    return s && ['Completed', 'Failed', 'Terminated'].includes(s.row.status) ? s.row : undefined;
  });

test('chain, fan-out, timer, event, sub-orchestration, retries', async () => {
  let flaky = 0;
  const { engine, store } = setup(
    {
      chain: function* (ctx: OrchestrationContext) {
        const a = yield ctx.df.callActivity('hello', 'a');
        const b = yield ctx.df.callActivity('hello', a);
        return b;
      },
      fan: function* (ctx: OrchestrationContext) {
        const n = ctx.df.getInput() as number;
        const tasks = [];
        for (let i = 0; i < n; i++) tasks.push(ctx.df.callActivity('double', i));
        const r = (yield ctx.df.Task.all(tasks)) as number[];
        return r.reduce((x, y) => x + y, 0);
      },
      waiter: function* (ctx: OrchestrationContext) {
        ctx.df.setCustomStatus('waiting');
        const t = ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + 50));
        yield t;
        const ev = yield ctx.df.waitForExternalEvent('go');
        const sub = yield ctx.df.callSubOrchestrator('chain', undefined, `${ctx.df.instanceId}-child`);
        const r = yield ctx.df.callActivityWithRetry('flaky', new df.RetryOptions(10, 3), 1);
        return { ev, sub, r, guid: ctx.df.newGuid(ctx.df.instanceId) };
      },
      failing: function* (ctx: OrchestrationContext) {
        yield ctx.df.callActivity('hello', 'x');
        throw new Error('boom here');
      },
    },
    {
      hello: (x) => `hello ${String(x)}`,
      double: (x) => (x as number) * 2,
      flaky: () => {
        flaky++;
        if (flaky < 3) throw new Error(`try ${flaky}`);
        return 'ok';
      },
    },
  );
  const c = await engine.startNew('chain', { input: null });
  assert.equal((await done(engine, c)).output, JSON.stringify('hello hello a'));
  const f = await engine.startNew('fan', { input: 200 });
  assert.equal((await done(engine, f)).output, String(199 * 200));
  const w = await engine.startNew('waiter', { instanceId: 'w1' });
  await eventually(() => (engine.getStatus(w)?.row.customStatus === '"waiting"' ? true : undefined));
  // host.json overridableExistingInstanceStates: NonRunningStates, as on Azure: a start with
  // the id of an instance that has not finished is refused (the default, AnyState, replaces it).
  await assert.rejects(engine.startNew('waiter', { instanceId: 'w1' }), (err: unknown) => err instanceof LedgerflowError && err.code === 'conflict');
  // Raised while the run still waits on its timer: the event is kept until it waits for it.
  await engine.raiseEvent(w, 'go', { x: 1 });
  const wr = await done(engine, w);
  assert.equal(wr.status, 'Completed', JSON.stringify(wr));
  const out = JSON.parse(wr.output ?? '') as { ev: unknown; sub: unknown; r: unknown };
  assert.deepEqual(out.ev, { x: 1 });
  assert.equal(out.sub, 'hello hello a');
  assert.equal(out.r, 'ok');
  assert.equal(flaky, 3);
  // ...while a finished instance's id may be started again, replacing it.
  assert.equal(await engine.startNew('waiter', { instanceId: 'w1' }), 'w1');
  await engine.raiseEvent('w1', 'go', { x: 2 });
  assert.deepEqual((JSON.parse((await done(engine, 'w1')).output ?? '') as { ev: unknown }).ev, { x: 2 });
  const bad = await engine.startNew('failing');
  const br = await done(engine, bad);
  assert.equal(br.status, 'Failed');
  assert.match(br.failure?.message ?? '', /boom here/);
  await engine.stop();
  engine.close();
  store.close();
});

test('a restart on the same store resumes timers, queued events and unfinished activities', async () => {
  let calls = 0;
  let release: () => void = () => undefined;
  const orchestrators: Record<string, df.OrchestrationHandler> = {
    restartable: function* (ctx: OrchestrationContext) {
      yield ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + 200));
      const ev = yield ctx.df.waitForExternalEvent('go');
      const r = yield ctx.df.callActivity('slow', ev);
      return r;
    },
  };
  const first = setup(orchestrators, {
    slow: () => {
      calls++;
      return new Promise((resolve) => (release = () => resolve('never recorded')));
    },
  });
  const id = await first.engine.startNew('restartable', { instanceId: 'r1' });
  await first.engine.raiseEvent(id, 'go', 'payload');
  await eventually(() => (calls === 1 ? true : undefined));
  await first.engine.stop();
  first.engine.close();
  release();
  first.store.close();

  const second = setup(
    orchestrators,
    {
      slow: (x) => {
        calls++;
        return `done ${String(x)}`;
      },
    },
    first.dataDir,
  );
  const row = await done(second.engine, id);
  assert.equal(row.status, 'Completed');
  assert.equal(row.output, JSON.stringify('done payload'));
  assert.equal(calls, 2, 'the activity in flight at the stop ran again, once');
  await second.engine.stop();
  second.engine.close();
  second.store.close();
});

test('a fan-out whose activities finish without I/O is recorded by one fan-in episode: two transactions in all', async () => {
  const { engine, store } = setup(
    {
      fan: function* (ctx: OrchestrationContext) {
        const n = ctx.df.getInput() as number;
        const r = (yield ctx.df.Task.all(Array.from({ length: n }, (_, i) => ctx.df.callActivity('double', i)))) as number[];
        return r.reduce((x, y) => x + y, 0);
      },
    },
    { double: (x) => (x as number) * 2 },
  );
  const before = engine.commitStats.transactions;
  const id = await engine.startNew('fan', { input: 300 });
  await engine.idle();
  const status = engine.getStatus(id, { showHistory: true });
  assert.equal(status?.row.status, 'Completed');
  assert.equal(status?.row.output, String(300 * 299));
  // The start and the episode that schedules the activities share one; the completions,
  // which all arrive before the instance's next episode starts, share the other (an
  // episode started while they still arrived would replay the history once per part).
  assert.equal(engine.commitStats.transactions - before, 2);
  const started = status?.history?.filter((e) => e.EventType === EventType.OrchestratorStarted).length;
  assert.equal(started, 2, 'two episodes (OrchestratorStarted events)');
  await engine.stop();
  engine.close();
  store.close();
});

// A parent hears of a child's end before the child's last commit is on disk; a parent that
// then starts a new child under the same id gets it, as when it heard only after the commit.
test('a sub-orchestration id can be used again as soon as its instance has ended', async () => {
  const { engine, store } = setup(
    {
      child: function* (ctx: OrchestrationContext) {
        return yield ctx.df.callActivity('hello', ctx.df.getInput());
      },
      parent: function* (ctx: OrchestrationContext) {
        const out: unknown[] = [];
        for (const who of ['a', 'b', 'c']) out.push(yield ctx.df.callSubOrchestrator('child', who, `${ctx.df.instanceId}-child`));
        return out;
      },
    },
    { hello: (x) => `hello ${String(x)}` },
  );
  const id = await engine.startNew('parent', { instanceId: 'reuse' });
  const row = await done(engine, id);
  assert.equal(row.status, 'Completed');
  assert.equal(row.output, JSON.stringify(['hello a', 'hello b', 'hello c']));
  assert.equal(store.getInstance('reuse-child')?.output, JSON.stringify('hello c'));
  await engine.idle();
});
