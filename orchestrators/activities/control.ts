import * as df from 'durable-functions';
import { errorMessage } from '../../src/core/errors';
import type { Logger } from '../../src/observability/logger';
import { jobInstanceId, WORKFLOW_EVENTS } from '../../src/core/workflow/run';
import { defineActivity } from './define';

export interface CancelJobsInput {
  workflowId: string;
  jobNames: string[];
  reason: string;
}

type RaiseEvent = (instanceId: string, eventName: string, data: unknown) => Promise<void>;

/** Orchestrators cannot signal other instances in durable-js, so the workflow orchestrator
 * cancels its running jobs through this activity, which raises `cancel` on each job's
 * sub-orchestration with the durable client. A job that already finished refuses the
 * event; that is not an error. */
export async function cancelJobInstances(input: CancelJobsInput, raise: RaiseEvent, log: Logger): Promise<null> {
  const results = await Promise.allSettled(
    input.jobNames.map((name) => raise(jobInstanceId(input.workflowId, name), WORKFLOW_EVENTS.cancel, { reason: input.reason })),
  );
  results.forEach((r, i) => {
    if (r.status === 'rejected') {
      log.info({ workflowId: input.workflowId, jobName: input.jobNames[i], err: errorMessage(r.reason) }, 'job not canceled (already finished?)');
    }
  });
  return null;
}

export const cancelJobs = defineActivity<CancelJobsInput, null>(
  'cancelJobs',
  async (input, deps, context) => {
    const client = df.getClient(context);
    return cancelJobInstances(input, (id, name, data) => client.raiseEvent(id, name, data), deps.log);
  },
  { extraInputs: [df.input.durableClient()] },
);
