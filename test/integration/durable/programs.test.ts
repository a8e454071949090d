import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import { DurableEngine } from '../../../src/durable/engine';
import { DurableStore } from '../../../src/durable/store';
import { directPort } from '../../../bench/support/durableDirectPort';
import { eventually } from '../../../bench/support/host';

// Random orchestrator programs (sequences of single calls, Task.all groups, Task.any races,
// calls with retries that fail some times, timers) run through the real SDK on the engine,
// with activities finishing in random order: the result must be what the program computes.
// This checks that the engine numbers tasks (including the SDK's retry timers) as the SDK does.

type Call = { kind: 'call'; value: number; delayMs: number; failures: number };
type Step = { kind: 'one'; call: Call } | { kind: 'all'; calls: Call[] } | { kind: 'any'; calls: Call[] } | { kind: 'timer'; ms: number };

const callArb: fc.Arbitrary<Call> = fc.record({
  kind: fc.constant('call' as const),
  value: fc.integer({ min: 0, max: 1000 }),
  delayMs: fc.integer({ min: 0, max: 4 }),
  failures: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 2 })),
});
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  callArb.map((call) => ({ kind: 'one' as const, call })),
  fc.array(callArb, { minLength: 1, maxLength: 6 }).map((calls) => ({ kind: 'all' as const, calls })),
  fc.array(callArb, { minLength: 1, maxLength: 3 }).map((calls) => ({ kind: 'any' as const, calls })),
  fc.integer({ min: 1, max: 5 }).map((ms) => ({ kind: 'timer' as const, ms })),
);

const attempts = new Map<string, number>();
let engine: DurableEngine;
let store: DurableStore;
const dir = mkdtempSync(join(tmpdir(), 'durable-prog-'));

before(() => {
  store = new DurableStore(join(dir, 'durable.db'));
  engine = new DurableEngine({
    store,
    maxConcurrentActivities: 4,
    functions: directPort(
      {
        program: function* (ctx: OrchestrationContext) {
          const steps = ctx.df.getInput() as Step[];
          const retry = new df.RetryOptions(1, 3);
          const task = (c: Call, key: string): Task =>
            c.failures > 0 ? ctx.df.callActivityWithRetry('work', retry, { ...c, key }) : ctx.df.callActivity('work', { ...c, key });
          const seen: unknown[] = [];
          for (const [i, step] of steps.entries()) {
            const key = `${ctx.df.instanceId}:${i}`;
            if (step.kind === 'one') seen.push(yield task(step.call, key));
            else if (step.kind === 'all') seen.push(yield ctx.df.Task.all(step.calls.map((c, j) => task(c, `${key}:${j}`))));
            else if (step.kind === 'any') {
              const winner = (yield ctx.df.Task.any(step.calls.map((c, j) => task(c, `${key}:${j}`)))) as Task;
              seen.push(typeof winner.result === 'number' ? 'any' : 'bad');
            } else {
              yield ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + step.ms));
              seen.push('timer');
            }
          }
          return seen;
        },
      },
      {
        work: async (input) => {
          const c = input as Call & { key: string };
          const n = (attempts.get(c.key) ?? 0) + 1;
          attempts.set(c.key, n);
          await new Promise((r) => setTimeout(r, c.delayMs));
          if (n <= c.failures) throw new Error(`failure ${n}`);
          return c.value * 2;
        },
      },
    ),
  });
  engine.start();
});

after(async () => {
  await engine.stop();
  engine.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const expected = (steps: Step[]): unknown[] =>
  steps.map((s) => (s.kind === 'one' ? s.call.value * 2 : s.kind === 'all' ? s.calls.map((c) => c.value * 2) : s.kind === 'any' ? 'any' : 'timer'));

test('random programs compute what they say, whatever the completion order', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 6 }), async (steps) => {
      const id = await engine.startNew('program', { input: steps });
      const row = await eventually(
        () => {
          const r = engine.getStatus(id)?.row;
          return r && (r.status === 'Completed' || r.status === 'Failed') ? r : undefined;
        },
        30_000,
        `program ${id} to end`,
      );
      assert.equal(row.status, 'Completed', row.failure?.message);
      assert.deepEqual(JSON.parse(row.output ?? 'null'), expected(steps));
    }),
    { numRuns: 40 },
  );
});
