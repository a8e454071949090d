import type { Caller } from '../../src/core/model';
import { holdsLease } from '../../src/core/workflow/leases';
import { defineActivity } from './define';

export interface CheckLeasesInput {
  caller: Caller;
  datasetIds: string[];
}
export interface CheckLeasesResult {
  /** Datasets the caller no longer holds (lease released, expired, or taken by another). */
  missing: string[];
}

/** Looked at again right before each job launches: a lease may have expired or been
 * released since the run was submitted. */
export const checkLeases = defineActivity<CheckLeasesInput, CheckLeasesResult>(
  'checkLeases',
  async ({ caller, datasetIds }, deps) => {
    const session = deps.ledger.as(caller);
    const now = deps.now();
    const missing: string[] = [];
    for (const id of new Set(datasetIds)) {
      if (!holdsLease(await session.getLease(id), caller, now)) missing.push(id);
    }
    return { missing };
  },
);
