import type { Caller } from '../../src/core/model';
import { holdsLease } from '../../src/core/workflow/leases';
import { defineActivity } from './define';

/** The steps of a run's cleanup, each safe to repeat (activities run at least once). */

export const cleanupCompute = defineActivity<{ workflowId: string; keepOutputs?: boolean }, null>(
  'cleanupCompute',
  async ({ workflowId, keepOutputs }, deps) => {
    await deps.compute.cleanup(workflowId, keepOutputs === true ? { keepOutputs } : {});
    return null;
  },
);

/** Releases the leases the run used that the submitter still holds; a lease already
 * released or expired is left alone. */
export const releaseRunLeases = defineActivity<{ caller: Caller; datasetIds: string[] }, { released: string[] }>(
  'releaseRunLeases',
  async ({ caller, datasetIds }, deps) => {
    const session = deps.ledger.as(caller);
    const released: string[] = [];
    for (const id of datasetIds) {
      if (!holdsLease(await session.getLease(id), caller, deps.now())) continue;
      await session.releaseLease(id);
      released.push(id);
    }
    return { released };
  },
);

export const recordWorkflowCleanedUp = defineActivity<{ caller: Caller; workflowId: string }, null>(
  'recordWorkflowCleanedUp',
  async ({ caller, workflowId }, deps) => {
    await deps.ledger.as(caller).recordWorkflowCleanedUp(workflowId);
    return null;
  },
);
