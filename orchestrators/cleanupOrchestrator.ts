import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import { ORCHESTRATORS, type CleanupMessage } from '../src/core/workflow/run';
import { call } from './activities/define';
import { cleanupCompute, recordWorkflowCleanedUp, releaseRunLeases } from './activities/cleanupSteps';
import { deleteRunOutputs } from './activities/results';
import { withRetries } from './retry';

/**
 * A finished run's cleanup (instance id: cleanupInstanceId(workflowId)): remove the run's
 * compute objects (and its outputs when the ledger rejected them at finish), release its leases when the run asked for it, and record
 * the cleanup on the ledger. Started by the `workflow-cleanup` queue function only when no
 * such instance exists, so a redelivered message does nothing twice; the durable history
 * makes each step run once even across host restarts.
 */
export function* cleanupOrchestrator(context: OrchestrationContext): Generator<Task, { released: string[] }, unknown> {
  const message = context.df.getInput<CleanupMessage>();
  yield* withRetries(context, () => call(cleanupCompute, { workflowId: message.workflowId }));
  // Outputs the ledger rejected at finish (over maxResultBytes) go; outputs pending review
  // stay until an owner decides (a rejection deletes them then, src/app/workflows/resultsService.ts).
  if (message.deleteOutputs === true) yield* withRetries(context, () => call(deleteRunOutputs, { workflowId: message.workflowId }));
  const { released } = message.releaseLeases
    ? yield* withRetries(context, () => call(releaseRunLeases, { caller: message.caller, datasetIds: message.datasetIds }))
    : { released: [] };
  // Only runs that mounted datasets and launched were recorded on the ledger.
  if (message.launched !== false && message.datasetIds.length > 0) {
    yield* withRetries(context, () => call(recordWorkflowCleanedUp, { caller: message.caller, workflowId: message.workflowId }));
  }
  return { released };
}

export const cleanupOrchestration = df.app.orchestration(ORCHESTRATORS.cleanup, cleanupOrchestrator);
