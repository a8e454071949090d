import { errorMessage, toLedgerflowError } from '../../core/errors';
import type { WorkflowStatus } from '../../core/model';
import type { ScheduleDefinition, ScheduleRun } from '../../core/schedules/schedule';
import { isFinished, ORCHESTRATORS } from '../../core/workflow/run';
import type { RunControl } from '../workflows/runControl';
import { factsOf, viewOf } from '../workflows/views';
import type { WorkflowService } from '../workflows/workflowService';

export interface TickInput {
  definition: ScheduleDefinition;
  /** The run this tick submits (tickWorkflowId): the same on every retry of the tick. */
  workflowId: string;
  /** With overlap skip: the schedule's last run, which must have ended. */
  previousWorkflowId?: string;
}

export type TickOutcome = Pick<ScheduleRun, 'workflowId' | 'status' | 'reason'>;

/** Refusals that say the tick cannot run now (recorded, not retried): anything else is a
 * passing failure, which the orchestration retries. */
const REFUSALS: Record<string, string | undefined> = {
  forbidden: 'lease not held',
  lease_held: 'lease not held',
  validation_failed: 'the workflow is not valid',
  bad_request: 'the workflow is not valid',
  not_found: 'a mounted dataset does not exist',
  gone: 'a mounted dataset was deleted',
};

/**
 * One tick of a schedule: submits the schedule's workflow as its creator through the
 * normal submission path (WorkflowService.submit: the lease check, the owners' approval
 * rules, the spec checks), or says why it cannot run. Repeating a tick whose run exists
 * answers that run, so a tick runs at most once whatever is retried.
 */
export async function runTick(input: TickInput, workflows: WorkflowService, runs: RunControl): Promise<TickOutcome> {
  const existing = await runStatus(runs, input.workflowId);
  if (existing !== undefined) return { workflowId: input.workflowId, status: existing };
  if (input.previousWorkflowId !== undefined) {
    const previous = await runStatus(runs, input.previousWorkflowId);
    if (previous !== undefined && !isFinished(previous)) {
      return { workflowId: null, status: 'Skipped', reason: `previous run still running: ${input.previousWorkflowId} is ${previous} (overlap: skip)` };
    }
  }
  const { definition } = input;
  try {
    const submitted = await workflows.submit(
      definition.creator,
      { source: definition.workflow, files: definition.files, options: { releaseLeases: definition.options.releaseLeases } },
      input.workflowId,
    );
    return { workflowId: submitted.id, status: submitted.status, ...(submitted.status === 'AwaitingApproval' && { reason: 'awaiting approval' }) };
  } catch (err) {
    const typed = toLedgerflowError(err);
    const why = REFUSALS[typed.code];
    if (why === undefined) throw err;
    const details = typed.details === undefined || typed.details.length === 0 ? '' : ` (${typed.details.map((d) => `${d.path}: ${d.message}`).join('; ')})`;
    return { workflowId: null, status: 'Skipped', reason: `${why}: ${errorMessage(typed)}${details}` };
  }
}

/** A run's status as its view shows it; undefined when there is no such run. */
export async function runStatus(runs: RunControl, workflowId: string): Promise<WorkflowStatus | undefined> {
  const record = await runs.get(workflowId);
  const facts = record === undefined || record.name !== ORCHESTRATORS.workflow ? undefined : factsOf(record);
  return record === undefined || facts === undefined ? undefined : viewOf(record, facts).status;
}
