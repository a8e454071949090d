import type { Caller } from '../../src/core/model';
import { holdsLease } from '../../src/core/workflow/leases';
import type { ActivityDeps } from '../../src/app/workflows/activityDeps';

/**
 * The datasets `caller` no longer holds (lease released, expired, or taken by another),
 * looked at again right before each job launches: a lease may have expired or been
 * released since the run was submitted.
 */
export async function missingLeases(deps: Pick<ActivityDeps, 'ledger' | 'now'>, caller: Caller, datasetIds: readonly string[]): Promise<string[]> {
  if (datasetIds.length === 0) return [];
  const session = deps.ledger.as(caller);
  const now = deps.now();
  const missing: string[] = [];
  for (const id of new Set(datasetIds)) {
    if (!holdsLease(await session.getLease(id), caller, now)) missing.push(id);
  }
  return missing;
}
