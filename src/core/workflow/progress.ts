import type { JobStatus } from '../model';
import type { JobGraph } from './dag';

/**
 * Which jobs of a run may start now, and how a run that stops early ends. Pure: the
 * workflow orchestrator calls these on every change, so they must be deterministic
 * (they are: sorted indexes out).
 */

/** Pending jobs whose every dependency has succeeded, in index order. */
export function readyJobs(graph: JobGraph, states: ReadonlyMap<number, JobStatus>): number[] {
  const succeeded = [...states].filter(([, s]) => s === 'Succeeded').map(([i]) => i);
  const notPending = [...states].filter(([, s]) => s !== 'Pending').map(([i]) => i);
  return graph.ready(succeeded, notPending);
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
