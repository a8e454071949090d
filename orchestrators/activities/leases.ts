import type { Caller } from '../../src/core/model';
import { holdsLease, leaseEndedReason } from '../../src/core/workflow/leases';
import type { LeaseExpiryInput } from '../../src/core/workflow/run';
import type { ActivityDeps } from '../../src/app/workflows/activityDeps';
import { defineActivity } from './define';

/**
 * The datasets `caller` no longer holds (lease released, expired, or taken by another),
 * looked at again right before each job launches: a lease may have expired or been
 * released since the run was submitted. `endsAt`: when the first of the held leases ends.
 */
export async function leaseWindow(
  deps: Pick<ActivityDeps, 'ledger' | 'now'>,
  caller: Caller,
  datasetIds: readonly string[],
): Promise<{ missing: string[]; endsAt?: Date }> {
  const session = deps.ledger.as(caller);
  const now = deps.now();
  const missing: string[] = [];
  let endsAt: Date | undefined;
  for (const id of new Set(datasetIds)) {
    const lease = await session.getLease(id);
    if (lease === undefined || !holdsLease(lease, caller, now)) missing.push(id);
    else if (endsAt === undefined || Date.parse(lease.expiresAt) < endsAt.getTime()) endsAt = new Date(lease.expiresAt);
  }
  return endsAt === undefined ? { missing } : { missing, endsAt };
}

export async function missingLeases(deps: Pick<ActivityDeps, 'ledger' | 'now'>, caller: Caller, datasetIds: readonly string[]): Promise<string[]> {
  return (await leaseWindow(deps, caller, datasetIds)).missing;
}

/** 'in-force' while the ledger still holds the lease as unexpired (its clock is behind ours). */
export type LeaseExpiryState = 'ended' | 'in-force';

/**
 * Expires the overdue leases on the ledger as the platform (the chaincode's ExpireLeases, the
 * same transaction the periodic timer runs; its `LeasesExpired` event stops the runs), then
 * tells whether the given lease is still in force.
 */
export async function expireLeaseNow(deps: Pick<ActivityDeps, 'ledger' | 'platform' | 'log'>, input: LeaseExpiryInput): Promise<LeaseExpiryState> {
  const session = deps.ledger.as(deps.platform);
  const expired = await session.expireLeases();
  for (const lease of expired) deps.log.info({ datasetId: lease.datasetId, holder: lease.holder.org, expiresAt: lease.expiresAt }, 'lease expired');
  const lease = await session.getLease(input.datasetId);
  return lease?.expiresAt === input.expiresAt ? 'in-force' : 'ended';
}

export const expireLease = defineActivity<LeaseExpiryInput, LeaseExpiryState>('expireLease', async (input, deps) => expireLeaseNow(deps, input));

export interface LeasesLostInput {
  caller: Caller;
  datasetIds: string[];
}

/** One reason per dataset of the run whose lease the caller no longer holds ([] when all
 * are held): looked at before a run is recorded as a success. */
export const leasesLost = defineActivity<LeasesLostInput, string[]>('leasesLost', async ({ caller, datasetIds }, deps) => {
  const reasons: string[] = [];
  for (const id of await missingLeases(deps, caller, datasetIds)) {
    const record = await deps.ledger.as(deps.platform).getDataset(id);
    reasons.push(leaseEndedReason(id, record === undefined || record.deletedAt !== undefined ? 'dataset deleted' : 'lease ended before the run finished'));
  }
  return reasons;
});
