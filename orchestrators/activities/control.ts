import * as df from 'durable-functions';
import { jobFinishedEvent, jobInstanceId, WORKFLOW_EVENTS, type JobResult } from '../../src/core/workflow/run';
import { defineActivity } from './define';
import { durableClientOf } from '../../src/app/workflows/durableClient';

/**
 * Events between orchestrations. durable-js orchestrators cannot raise events on other
 * instances, so these activities do it with the durable client. The client treats an
 * instance that has already completed (HTTP 410) as success: a late cancel or report is
 * a no-op, which is what we want.
 */
export type RaiseEvent = (instanceId: string, eventName: string, data: unknown) => Promise<void>;

export interface CancelJobsInput {
  workflowId: string;
  jobNames: string[];
  reason: string;
}

export interface NotifyWorkflowInput {
  workflowId: string;
  jobIndex: number;
  result: JobResult;
}

export async function cancelJobInstances(input: CancelJobsInput, raise: RaiseEvent): Promise<null> {
  await Promise.all(input.jobNames.map((name) => raise(jobInstanceId(input.workflowId, name), WORKFLOW_EVENTS.cancel, { reason: input.reason })));
  return null;
}

export async function notifyWorkflowInstance(input: NotifyWorkflowInput, raise: RaiseEvent): Promise<null> {
  await raise(input.workflowId, jobFinishedEvent(input.jobIndex), input.result);
  return null;
}

function raiserOf(context: Parameters<typeof df.getClient>[0]): RaiseEvent {
  const client = durableClientOf(context);
  return (id, name, data) => client.raiseEvent(id, name, data);
}

/** The workflow orchestrator stops its running jobs (fail-fast, cancel, timeout). */
export const cancelJobs = defineActivity<CancelJobsInput, null>('cancelJobs', async (input, _deps, context) => cancelJobInstances(input, raiserOf(context)), {
  extraInputs: [df.input.durableClient()],
});

/** A job's orchestrator reports its result to the workflow orchestrator. */
export const notifyWorkflow = defineActivity<NotifyWorkflowInput, null>(
  'notifyWorkflow',
  async (input, _deps, context) => notifyWorkflowInstance(input, raiserOf(context)),
  { extraInputs: [df.input.durableClient()] },
);
