import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { JobGraph, type Edge } from '../../../src/core/workflow/dag';

// Thesis listing 5.2: 1 fans out to 2, 3, 4, which fan in to 5.
const diamond = new JobGraph(5, [
  { from: 1, to: 2 },
  { from: 1, to: 3 },
  { from: 1, to: 4 },
  { from: 2, to: 5 },
  { from: 3, to: 5 },
  { from: 4, to: 5 },
]);

test('dependencies and dependents', () => {
  assert.deepEqual(diamond.dependenciesOf(5), [2, 3, 4]);
  assert.deepEqual(diamond.dependentsOf(1), [2, 3, 4]);
  assert.deepEqual(diamond.dependenciesOf(1), []);
  assert.throws(() => diamond.dependenciesOf(6), RangeError);
});

test('ready set follows what succeeded and leaves out what is excluded', () => {
  assert.deepEqual(diamond.ready([]), [1]);
  assert.deepEqual(diamond.ready([1]), [2, 3, 4]);
  assert.deepEqual(diamond.ready([1], [2]), [3, 4]);
  assert.deepEqual(diamond.ready([1, 2, 3]), [4]);
  assert.deepEqual(diamond.ready([1, 2, 3, 4]), [5]);
  assert.deepEqual(diamond.ready([1, 2, 3, 4, 5]), []);
  assert.deepEqual(new JobGraph(3, []).ready([]), [1, 2, 3]);
});

test('transitive dependents are what a failure skips', () => {
  assert.deepEqual(diamond.transitiveDependents(1), [2, 3, 4, 5]);
  assert.deepEqual(diamond.transitiveDependents(3), [5]);
  assert.deepEqual(diamond.transitiveDependents(5), []);
});

test('topological order is deterministic, lowest index first', () => {
  assert.deepEqual(diamond.topologicalOrder(), [1, 2, 3, 4, 5]);
  assert.deepEqual(new JobGraph(3, [{ from: 3, to: 1 }]).topologicalOrder(), [2, 3, 1]);
  assert.throws(
    () =>
      new JobGraph(2, [
        { from: 1, to: 2 },
        { from: 2, to: 1 },
      ]).topologicalOrder(),
    /cycle: 1 >> 2 >> 1/,
  );
});

test('cycles: one per strongly connected component, closed, from its lowest job', () => {
  const g = new JobGraph(6, [
    { from: 1, to: 2 },
    { from: 2, to: 3 },
    { from: 3, to: 1 },
    { from: 4, to: 4 },
    { from: 5, to: 6 },
  ]);
  assert.deepEqual(g.cycles(), [
    [1, 2, 3, 1],
    [4, 4],
  ]);
  assert.deepEqual(diamond.cycles(), []);
});

const edgesArb = fc.integer({ min: 1, max: 25 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    edges: fc.array(fc.record({ from: fc.integer({ min: 1, max: n }), to: fc.integer({ min: 1, max: n }) }), { maxLength: 60 }),
  }),
);

/** Edges from lower to higher positions of a random permutation: always acyclic. */
const acyclicArb = fc.integer({ min: 1, max: 25 }).chain((n) =>
  fc
    .record({
      n: fc.constant(n),
      perm: fc.shuffledSubarray(
        Array.from({ length: n }, (_, i) => i + 1),
        { minLength: n, maxLength: n },
      ),
      pairs: fc.array(fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 0, max: n - 1 })), { maxLength: 60 }),
    })
    .map(({ n, perm, pairs }) => ({
      n,
      edges: pairs.filter(([a, b]) => a !== b).map(([a, b]): Edge => ({ from: perm[Math.min(a, b)]!, to: perm[Math.max(a, b)]! })),
    })),
);

/** Reference: a graph has a cycle iff repeatedly removing sources leaves something. */
function hasCycle(n: number, edges: readonly Edge[]): boolean {
  let remaining = new Set(Array.from({ length: n }, (_, i) => i + 1));
  for (;;) {
    const sources = [...remaining].filter((j) => !edges.some((e) => e.to === j && remaining.has(e.from)));
    if (sources.length === 0) return remaining.size > 0;
    remaining = new Set([...remaining].filter((j) => !sources.includes(j)));
  }
}

test('property: a topological order of an acyclic graph respects every edge', () => {
  fc.assert(
    fc.property(acyclicArb, ({ n, edges }) => {
      const order = new JobGraph(n, edges).topologicalOrder();
      assert.deepEqual(
        [...order].sort((a, b) => a - b),
        Array.from({ length: n }, (_, i) => i + 1),
      );
      const position = new Map(order.map((j, i) => [j, i]));
      for (const e of edges) assert.ok(position.get(e.from)! < position.get(e.to)!);
      assert.deepEqual(new JobGraph(n, edges).cycles(), []);
    }),
  );
});

test('property: a cycle is found exactly when there is one, and it is a real cycle', () => {
  fc.assert(
    fc.property(edgesArb, ({ n, edges }) => {
      const g = new JobGraph(n, edges);
      const cycles = g.cycles();
      assert.equal(cycles.length > 0, hasCycle(n, edges));
      for (const cycle of cycles) {
        assert.equal(cycle[0], cycle[cycle.length - 1]);
        for (let i = 0; i + 1 < cycle.length; i++) assert.ok(g.dependentsOf(cycle[i]!).includes(cycle[i + 1]!));
      }
      if (cycles.length > 0) assert.throws(() => g.topologicalOrder(), RangeError);
      else assert.equal(g.topologicalOrder().length, n);
    }),
  );
});

test('property: running ready jobs to completion finishes an acyclic graph in a valid order', () => {
  fc.assert(
    fc.property(acyclicArb, ({ n, edges }) => {
      const g = new JobGraph(n, edges);
      const done: number[] = [];
      for (let ready = g.ready(done); ready.length > 0; ready = g.ready(done)) {
        for (const j of ready) assert.ok(g.dependenciesOf(j).every((d) => done.includes(d)));
        done.push(...ready);
      }
      assert.equal(done.length, n);
      for (const j of g.jobs()) {
        for (const k of g.transitiveDependents(j)) assert.ok(done.indexOf(j) < done.indexOf(k));
      }
    }),
  );
});
