import type { ErrorDetail } from '../errors';
import type { Caller, LeaseRecord } from '../model';
import type { WorkflowSpec } from './spec';

/** True when `caller` holds the lease and it has not expired at `now`. */
export function holdsLease(lease: LeaseRecord | undefined, caller: Caller, now: Date): boolean {
  return lease !== undefined && lease.holder.user === caller.user && lease.holder.org === caller.org && Date.parse(lease.expiresAt) > now.getTime();
}

/** One detail per volume whose dataset the caller does not hold, located by its spec path
 * (`jobs[1].volumes[0].id`), so a 403 names every one at once. */
export function unleasedVolumes(spec: WorkflowSpec, leases: ReadonlyMap<string, LeaseRecord | undefined>, caller: Caller, now: Date): ErrorDetail[] {
  return spec.jobs.flatMap((job, j) =>
    job.volumes.flatMap((volume, v) =>
      holdsLease(leases.get(volume.id), caller, now)
        ? []
        : [{ path: `jobs[${j}].volumes[${v}].id`, message: `dataset ${volume.id} (${volume.name}) is not leased by ${caller.user}@${caller.org}` }],
    ),
  );
}

/** Why a dataset's lease ended under a run, in the words its canceled run shows. */
export type LeaseEnd =
  | 'lease released by its owner'
  | 'lease released by its holder'
  /** a release recorded before the chaincode named who released */
  | 'lease released'
  | 'lease expired'
  | 'dataset deleted'
  /** found at the finish: the run's last job ended between the lease's end and its cancel */
  | 'lease ended before the run finished';

/** The message of a run stopped because a dataset's lease ended: names the dataset and why. */
export function leaseEndedReason(datasetId: string, end: LeaseEnd): string {
  return `dataset ${datasetId}: ${end}`;
}

/**
 * Seconds past the first lease's end that a job's own time limit (the local supervisor's, a
 * Kubernetes Job's `activeDeadlineSeconds`) lets it run. The platform stops it at the end
 * itself, with the reason; this backstop is for when no platform host runs then, and is later
 * than that cancel so that it never races it.
 */
export const LEASE_BACKSTOP_SECONDS = 10;

/** The time limit handed to the backend: the job's timeout, but no later than the backstop
 * after its earliest lease ends (at least 1 s). */
export function jobTimeLimit(timeoutSeconds: number, leaseEndsAt: Date | undefined, now: Date): number {
  if (leaseEndsAt === undefined) return timeoutSeconds;
  const leaseLeft = Math.ceil((leaseEndsAt.getTime() - now.getTime()) / 1000) + LEASE_BACKSTOP_SECONDS;
  return Math.max(1, Math.min(timeoutSeconds, leaseLeft));
}
