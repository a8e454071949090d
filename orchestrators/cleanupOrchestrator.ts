import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import { ORCHESTRATORS, type CleanupMessage } from '../src/core/workflow/run';
import { call } from './activities/define';
import { cleanupCompute, recordWorkflowCleanedUp, releaseRunLeases } from './activities/cleanupSteps';
import { withRetries } from './retry';

/**
 * A finished run's cleanup (instance id: cleanupInstanceId(workflowId)): remove the run's
 * compute objects and workspace, release its leases when the run asked for it, and record
 * the cleanup on the ledger. Started by the `workflow-cleanup` queue function only when no
 * such instance exists, so a redelivered message does nothing twice; the durable history
 * makes each step run once even across host restarts.
 */
export function* cleanupOrchestrator(context: OrchestrationContext): Generator<Task, { released: string[] }, unknown> {
  const message = context.df.getInput<CleanupMessage>();
  yield* withRetries(context, () => call(cleanupCompute, { workflowId: message.workflowId }));
  const { released } = message.releaseLeases
    ? yield* withRetries(context, () => call(releaseRunLeases, { caller: message.caller, datasetIds: message.datasetIds }))
    : { released: [] };
  // Only runs that mounted datasets were recorded on the ledger (workflowOrchestrator).
  if (message.datasetIds.length > 0) yield* withRetries(context, () => call(recordWorkflowCleanedUp, { caller: message.caller, workflowId: message.workflowId }));
  return { released };
}

export const cleanupOrchestration = df.app.orchestration(ORCHESTRATORS.cleanup, cleanupOrchestrator);
