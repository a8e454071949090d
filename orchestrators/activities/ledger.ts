import type { Caller } from '../../src/core/model';
import type { WorkflowFinish, WorkflowLaunch } from '../../src/ports/ledger';
import { LedgerflowError } from '../../src/core/errors';
import { defineActivity } from './define';

/** The chaincode refuses, at endorsement, a second launch record of a workflow id. Ids are
 * fresh per submission, so that refusal means an earlier try of this activity committed
 * and only its answer was lost. (An MVCC conflict fails at commit and is retried.) */
function alreadyRecorded(err: unknown): boolean {
  return err instanceof LedgerflowError && err.code === 'conflict' && (err as { stage?: unknown }).stage === 'endorse';
}

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
    try {
      await deps.ledger.as(caller).recordWorkflowLaunched({ workflowId, datasetIds, specHash });
    } catch (err) {
      if (!alreadyRecorded(err)) throw err;
    }
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
