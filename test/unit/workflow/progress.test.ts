import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { JobStatus } from '../../../src/core/model';
import { JobGraph } from '../../../src/core/workflow/dag';
import { neverStartedStatus, readyJobs, runOutcome } from '../../../src/core/workflow/progress';

const statuses = (s: Record<number, JobStatus>) => new Map(Object.entries(s).map(([k, v]) => [Number(k), v]));

test('a job is ready when it is pending and every job it waits for has succeeded', () => {
  const deps = new JobGraph(5, [
    { from: 1, to: 2 },
    { from: 1, to: 3 },
    { from: 1, to: 4 },
    { from: 2, to: 5 },
    { from: 3, to: 5 },
    { from: 4, to: 5 },
  ]);
  assert.deepEqual(readyJobs(deps, statuses({ 1: 'Pending', 2: 'Pending', 3: 'Pending', 4: 'Pending', 5: 'Pending' })), [1]);
  assert.deepEqual(readyJobs(deps, statuses({ 1: 'Succeeded', 2: 'Pending', 3: 'Pending', 4: 'Pending', 5: 'Pending' })), [2, 3, 4]);
  assert.deepEqual(readyJobs(deps, statuses({ 1: 'Succeeded', 2: 'Succeeded', 3: 'Running', 4: 'Succeeded', 5: 'Pending' })), []);
  assert.deepEqual(readyJobs(deps, statuses({ 1: 'Succeeded', 2: 'Succeeded', 3: 'Failed', 4: 'Succeeded', 5: 'Pending' })), []);
  assert.deepEqual(readyJobs(deps, statuses({ 1: 'Succeeded', 2: 'Succeeded', 3: 'Succeeded', 4: 'Succeeded', 5: 'Pending' })), [5]);
});

test('jobs with no edge are all ready at the start', () => {
  assert.deepEqual(readyJobs(new JobGraph(3, []), statuses({ 3: 'Pending', 1: 'Pending', 2: 'Pending' })), [1, 2, 3]);
});

test('the outcome: first stop reason wins, else success only when every job succeeded', () => {
  assert.equal(runOutcome('Canceled', statuses({ 1: 'Succeeded' })), 'Canceled');
  assert.equal(runOutcome(undefined, statuses({ 1: 'Succeeded', 2: 'Succeeded' })), 'Succeeded');
  assert.equal(runOutcome(undefined, statuses({ 1: 'Succeeded', 2: 'Skipped' })), 'Failed');
  assert.equal(neverStartedStatus('Failed'), 'Skipped');
  assert.equal(neverStartedStatus('Canceled'), 'Canceled');
});

// Any DAG (edges only from lower to higher index, so acyclic): running whatever is ready,
// in any order of completion, runs every job exactly once and never before its dependencies.
test('property: driving any DAG by readyJobs runs every job once, in dependency order', () => {
  const dag = fc.integer({ min: 1, max: 12 }).chain((n) =>
    fc.tuple(
      fc.constant(n),
      // Each pair (a, b) becomes the edge min -> max, so the graph is acyclic by construction.
      fc.uniqueArray(
        fc.tuple(fc.integer({ min: 1, max: n }), fc.integer({ min: 1, max: n })).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const),
        { selector: ([a, b]) => `${a}-${b}`, maxLength: 30 },
      ),
      fc.array(fc.nat(), { minLength: 64, maxLength: 64 }),
    ),
  );
  fc.assert(
    fc.property(dag, ([n, pairs, picks]) => {
      const indexes = Array.from({ length: n }, (_, i) => i + 1);
      const edges = pairs.filter(([from, to]) => from !== to).map(([from, to]) => ({ from, to }));
      const deps = new JobGraph(n, edges);
      const state = new Map<number, JobStatus>(indexes.map((i) => [i, 'Pending']));
      const running: number[] = [];
      const order: number[] = [];
      let pick = 0;
      for (;;) {
        for (const i of readyJobs(deps, state)) {
          state.set(i, 'Running');
          running.push(i);
        }
        if (running.length === 0) break;
        const [done] = running.splice(picks[pick++ % picks.length]! % running.length, 1);
        state.set(done!, 'Succeeded');
        order.push(done!);
      }
      assert.deepEqual(
        [...order].sort((a, b) => a - b),
        indexes,
      );
      for (const { from, to } of edges) assert.ok(order.indexOf(from) < order.indexOf(to));
    }),
  );
});
