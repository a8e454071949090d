/**
 * The job graph of a workflow: jobs are numbered 1..size, as in `dags`; an edge
 * `from >> to` means `to` starts only after `from` succeeded. Pure and immutable; every
 * list it returns is sorted by index, so orchestrator replays see the same order.
 */
export interface Edge {
  from: number;
  to: number;
}

export class JobGraph {
  readonly size: number;
  private readonly deps: number[][];
  private readonly dependents: number[][];

  constructor(size: number, edges: readonly Edge[]) {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`bad job count ${size}`);
    this.size = size;
    const deps = Array.from({ length: size + 1 }, () => new Set<number>());
    const dependents = Array.from({ length: size + 1 }, () => new Set<number>());
    for (const { from, to } of edges) {
      this.check(from);
      this.check(to);
      deps[to]!.add(from);
      dependents[from]!.add(to);
    }
    const sorted = (s: Set<number>) => [...s].sort((a, b) => a - b);
    this.deps = deps.map(sorted);
    this.dependents = dependents.map(sorted);
  }

  static of(spec: { jobs: readonly unknown[]; edges: readonly Edge[] }): JobGraph {
    return new JobGraph(spec.jobs.length, spec.edges);
  }

  /** 1..size */
  jobs(): number[] {
    return Array.from({ length: this.size }, (_, i) => i + 1);
  }

  dependenciesOf(job: number): readonly number[] {
    this.check(job);
    return this.deps[job]!;
  }

  dependentsOf(job: number): readonly number[] {
    this.check(job);
    return this.dependents[job]!;
  }

  /** Jobs that may start now: not succeeded, not in `excluded` (running, failed, skipped,
   * ...), and every dependency succeeded. */
  ready(succeeded: Iterable<number>, excluded: Iterable<number> = []): number[] {
    const done = new Set(succeeded);
    const out = new Set([...done, ...excluded]);
    return this.jobs().filter((j) => !out.has(j) && this.deps[j]!.every((d) => done.has(d)));
  }

  /** Every job that depends on `job`, directly or not: what to skip when it fails. */
  transitiveDependents(job: number): number[] {
    this.check(job);
    const seen = new Set<number>();
    const stack = [...this.dependents[job]!];
    while (stack.length > 0) {
      const j = stack.pop()!;
      if (seen.has(j)) continue;
      seen.add(j);
      stack.push(...this.dependents[j]!);
    }
    return [...seen].sort((a, b) => a - b);
  }

  /** Kahn's algorithm, lowest index first among the ready ones (deterministic). Throws a
   * RangeError on a cycle; parsed specs have none. */
  topologicalOrder(): number[] {
    const indegree = this.deps.map((d) => d.length);
    const ready = this.jobs().filter((j) => indegree[j] === 0);
    const order: number[] = [];
    while (ready.length > 0) {
      ready.sort((a, b) => a - b);
      const j = ready.shift()!;
      order.push(j);
      for (const k of this.dependents[j]!) if (--indegree[k]! === 0) ready.push(k);
    }
    if (order.length !== this.size) throw new RangeError(`the job graph has a cycle: ${this.cycles()[0]!.join(' >> ')}`);
    return order;
  }

  /** One cycle per strongly connected component that has one, each closed
   * (`[1, 3, 1]`) and starting at its lowest index. Empty when the graph is acyclic. */
  cycles(): number[][] {
    return this.components()
      .filter((c) => c.length > 1 || this.deps[c[0]!]!.includes(c[0]!))
      .map((c) => this.cycleWithin(new Set(c), Math.min(...c)))
      .sort((a, b) => a[0]! - b[0]!);
  }

  /** Tarjan's strongly connected components, iterative so deep graphs cannot overflow the
   * stack. */
  private components(): number[][] {
    const index = new Array<number>(this.size + 1).fill(-1);
    const low = new Array<number>(this.size + 1).fill(0);
    const onStack = new Array<boolean>(this.size + 1).fill(false);
    const stack: number[] = [];
    const result: number[][] = [];
    let counter = 0;
    for (const root of this.jobs()) {
      if (index[root] !== -1) continue;
      const work: Array<{ node: number; next: number }> = [{ node: root, next: 0 }];
      index[root] = low[root] = counter++;
      stack.push(root);
      onStack[root] = true;
      while (work.length > 0) {
        const frame = work[work.length - 1]!;
        const succ = this.dependents[frame.node]!;
        if (frame.next < succ.length) {
          const w = succ[frame.next++]!;
          if (index[w] === -1) {
            index[w] = low[w] = counter++;
            stack.push(w);
            onStack[w] = true;
            work.push({ node: w, next: 0 });
          } else if (onStack[w]) {
            low[frame.node] = Math.min(low[frame.node]!, index[w]!);
          }
          continue;
        }
        work.pop();
        const parent = work[work.length - 1];
        if (parent) low[parent.node] = Math.min(low[parent.node]!, low[frame.node]!);
        if (low[frame.node] === index[frame.node]) {
          const component: number[] = [];
          let w: number;
          do {
            w = stack.pop()!;
            onStack[w] = false;
            component.push(w);
          } while (w !== frame.node);
          result.push(component.sort((a, b) => a - b));
        }
      }
    }
    return result;
  }

  /** A shortest cycle through `start` inside one strongly connected component (BFS). */
  private cycleWithin(component: Set<number>, start: number): number[] {
    const parent = new Map<number, number>();
    const queue = [start];
    for (let i = 0; i < queue.length; i++) {
      const j = queue[i]!;
      for (const k of this.dependents[j]!) {
        if (!component.has(k)) continue;
        if (k === start) {
          const path = [j];
          for (let n = j; n !== start; path.push(n)) n = parent.get(n)!;
          return [...path.reverse(), start];
        }
        if (!parent.has(k)) {
          parent.set(k, j);
          queue.push(k);
        }
      }
    }
    throw new RangeError(`job ${start} is on no cycle`);
  }

  private check(job: number): void {
    if (!Number.isInteger(job) || job < 1 || job > this.size) throw new RangeError(`no job ${job} (jobs are 1..${this.size})`);
  }
}
