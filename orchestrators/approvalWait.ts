import type { OrchestrationContext, Task } from 'durable-functions';
import { errorMessage } from '../src/core/errors';
import { approvalDecidedEvent, cancelMessage, type ApprovalDecided, type WorkflowInput, type WorkflowRunStatus } from '../src/core/workflow/run';
import { call } from './activities/define';
import { requestApprovals } from './activities/ledger';
import { withRetries } from './retry';

/** Why a run stopped before its launch, or undefined when every owner approved. */
export type ApprovalStop = { status: 'Rejected' | 'Canceled' | 'Failed'; message: string } | undefined;

/**
 * The approval phase of a run: records the requests on the ledger (as the lease holder),
 * then waits, without polling, for one decision event per pending request or for cancel.
 * A lease that ends meanwhile cancels the run through the same cancel event. Event waits
 * schedule nothing, so the same waits are put into every Task.any (unlike timers and
 * sub-orchestrations, see workflowOrchestrator.ts).
 */
export function* awaitApprovals(
  context: OrchestrationContext,
  input: WorkflowInput,
  run: WorkflowRunStatus,
  publish: () => void,
  cancel: Task,
): Generator<Task, ApprovalStop, unknown> {
  const { caller, workflowId, spec, filesHash } = input;
  let records;
  try {
    records = yield* withRetries(context, () => call(requestApprovals, { caller, workflowId, spec, filesHash, datasetIds: input.approvalDatasetIds }));
  } catch (err) {
    return { status: 'Failed', message: `approval could not be requested on the ledger: ${errorMessage(err)}` };
  }
  run.approvals = records.map((r) => ({ datasetId: r.datasetId, owner: r.owner.org, state: r.state }));
  const waits = new Map(
    run.approvals.filter((a) => a.state === 'pending').map((a) => [a.datasetId, context.df.waitForExternalEvent(approvalDecidedEvent(a.datasetId))]),
  );
  for (;;) {
    for (const [datasetId, wait] of waits) {
      if (!wait.isCompleted) continue;
      waits.delete(datasetId);
      const decided = wait.result as ApprovalDecided;
      const approval = run.approvals.find((a) => a.datasetId === datasetId)!;
      approval.state = decided.state;
      if (decided.state === 'rejected') {
        return {
          status: 'Rejected',
          message: `rejected by ${decided.by.user}@${decided.by.org} for dataset ${datasetId}${decided.reason === undefined ? '' : `: ${decided.reason}`}`,
        };
      }
    }
    if (cancel.isCompleted) return { status: 'Canceled', message: `${cancelMessage(cancel.result)} (while awaiting approval)` };
    if (waits.size === 0) return undefined;
    run.status = 'AwaitingApproval';
    publish();
    yield context.df.Task.any([cancel, ...waits.values()]);
  }
}
