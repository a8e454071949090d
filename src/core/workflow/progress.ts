import type { JobStatus } from '../model';

/**
 * Which jobs of a DAG may start now, and what happens to the rest when the run stops.
 * Pure: the workflow orchestrator calls these on every change, so they must be
 * deterministic (they are: input order in, sorted indexes out).
 */

export interface Edge {
  from: number;
  to: number;
}

/** Job index -> the indexes it waits for. */
export function dependencyMap(jobIndexes: readonly number[], edges: readonly Edge[]): Map<number, number[]> {
  const deps = new Map<number, number[]>(jobIndexes.map((i) => [i, []]));
  for (const { from, to } of edges) deps.get(to)?.push(from);
  return deps;
}

/** Pending jobs whose every dependency has succeeded, in index order. */
export function readyJobs(deps: ReadonlyMap<number, readonly number[]>, states: ReadonlyMap<number, JobStatus>): number[] {
  const ready: number[] = [];
  for (const [index, waitsFor] of deps) {
    if (states.get(index) !== 'Pending') continue;
    if (waitsFor.every((d) => states.get(d) === 'Succeeded')) ready.push(index);
  }
  return ready.sort((a, b) => a - b);
}

/** The state a job that never started ends in, once the run stops early: skipped when the
 * run failed (fail-fast), canceled when the run was canceled. */
export function neverStartedStatus(run: 'Failed' | 'Canceled'): JobStatus {
  return run === 'Failed' ? 'Skipped' : 'Canceled';
}

/** The run's outcome once no job is running: the first stop reason wins; otherwise it
 * succeeded when every job did. */
export function runOutcome(stoppedBy: 'Failed' | 'Canceled' | undefined, states: ReadonlyMap<number, JobStatus>): 'Succeeded' | 'Failed' | 'Canceled' {
  if (stoppedBy !== undefined) return stoppedBy;
  for (const s of states.values()) if (s !== 'Succeeded') return 'Failed';
  return 'Succeeded';
}
