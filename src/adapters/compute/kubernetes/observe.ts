import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { JobObservation } from '../../../ports/compute';

/** The client deserializes timestamps into Date; the port speaks ISO-8601 strings. */
export const iso = (t: Date | string | undefined): string | undefined => (t === undefined ? undefined : new Date(t).toISOString());

/** Phase, exit code and times of one Job attempt, from the Job and (if still there) its pod. */
export function observeJob(job: V1Job, pod: V1Pod | undefined): JobObservation {
  const conditions = job.status?.conditions ?? [];
  const finished = conditions.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  const terminated = pod?.status?.containerStatuses?.find((c) => c.name === 'main')?.state?.terminated;
  const phase: JobObservation['phase'] =
    finished?.type === 'Complete' ? 'Succeeded' : finished?.type === 'Failed' ? 'Failed' : pod?.status?.phase === 'Running' ? 'Running' : 'Pending';
  const observation: JobObservation = { phase, exitCode: finished === undefined ? null : (terminated?.exitCode ?? null) };
  const startedAt = iso(terminated?.startedAt ?? job.status?.startTime);
  const endedAt = finished === undefined ? undefined : iso(terminated?.finishedAt ?? job.status?.completionTime ?? finished.lastTransitionTime);
  if (startedAt !== undefined) observation.startedAt = startedAt;
  if (endedAt !== undefined) observation.endedAt = endedAt;
  // e.g. DeadlineExceeded: the job ran past its timeout and has no exit code of its own.
  if (finished?.type === 'Failed' && finished.reason !== undefined)
    observation.message = `${finished.reason}${finished.message ? `: ${finished.message}` : ''}`;
  return observation;
}

export const isFinished = (job: V1Job) => (job.status?.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
