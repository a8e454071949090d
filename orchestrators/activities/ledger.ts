import type { Caller } from '../../src/core/model';
import type { WorkflowFinish, WorkflowLaunch } from '../../src/ports/ledger';
import { defineActivity } from './define';

/** Launch and finish of a run, on the ledger, as the submitter (the chaincode takes the
 * identity from the session, so the record names who ran what). */
export interface RecordLaunchInput extends WorkflowLaunch {
  caller: Caller;
}
export interface RecordFinishInput extends WorkflowFinish {
  caller: Caller;
}

export const recordWorkflowLaunched = defineActivity<RecordLaunchInput, null>(
  'recordWorkflowLaunched',
  async ({ caller, workflowId, datasetIds, specHash }, deps) => {
    // Idempotent on the ledger: a retry after a lost answer gets the stored record back.
    await deps.ledger.as(caller).recordWorkflowLaunched({ workflowId, datasetIds, specHash });
    return null;
  },
);

export const recordWorkflowFinished = defineActivity<RecordFinishInput, null>(
  'recordWorkflowFinished',
  async ({ caller, workflowId, status, jobs }, deps) => {
    await deps.ledger.as(caller).recordWorkflowFinished({ workflowId, status, jobs });
    return null;
  },
);
