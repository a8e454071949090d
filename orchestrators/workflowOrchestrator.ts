import * as df from 'durable-functions';
import type { OrchestrationContext, Task, TimerTask } from 'durable-functions';
import { errorMessage } from '../src/core/errors';
import type { JobStatus } from '../src/core/model';
import { dependencyMap, neverStartedStatus, readyJobs, runOutcome } from '../src/core/workflow/progress';
import {
  initialJobStates, jobInstanceId, WORKFLOW_EVENTS,
  type JobInput, type JobResult, type JobState, type WorkflowInput, type WorkflowRunStatus,
} from '../src/core/workflow/run';
import { datasetIdsOf } from '../src/core/workflow/spec';
import { call } from './activities/define';
import { requestCleanup } from './activities/cleanup';
import { cancelJobs } from './activities/control';
import { recordWorkflowFinished, recordWorkflowLaunched } from './activities/ledger';
import { jobOrchestration } from './jobOrchestrator';
import { nowIso, secondsAfter, withRetries } from './retry';

/**
 * One workflow run (instance id = workflow id). Records the launch on the ledger, drives
 * the DAG with one job sub-orchestration per job (independent jobs in parallel), stops
 * early on the first failed job (fail-fast: running jobs canceled, the rest Skipped) or on
 * a `cancel` event (running jobs canceled, the rest Canceled), records the finish, and
 * queues the cleanup. Its custom status is the run's public state, refreshed on every
 * change. Deterministic: time only from the context, I/O only through activities.
 */
export function* workflowOrchestrator(context: OrchestrationContext): Generator<Task, WorkflowRunStatus, unknown> {
  const input = context.df.getInput<WorkflowInput>();
  const { workflowId, caller, spec } = input;
  const run: WorkflowRunStatus = { status: 'Pending', submittedBy: caller, datasetIds: datasetIdsOf(spec), jobs: initialJobStates(spec) };
  const publish = () => context.df.setCustomStatus({ ...run, jobs: run.jobs.map((j) => ({ ...j })) });
  const jobState = new Map(run.jobs.map((j) => [j.index, j]));
  const statuses = () => new Map<number, JobStatus>(run.jobs.map((j) => [j.index, j.status]));
  publish();

  let stoppedBy: 'Failed' | 'Canceled' | undefined;
  try {
    yield* withRetries(context, () => call(recordWorkflowLaunched, { caller, workflowId, datasetIds: run.datasetIds, specHash: input.specHash }));
  } catch (err) {
    stoppedBy = 'Failed';
    run.message = `launch could not be recorded on the ledger: ${errorMessage(err)}`;
  }

  const deps = dependencyMap(spec.jobs.map((j) => j.index), spec.edges);
  const cancel = context.df.waitForExternalEvent(WORKFLOW_EVENTS.cancel);
  const deadline: TimerTask | undefined = spec.timeoutSeconds === undefined ? undefined : context.df.createTimer(secondsAfter(context, spec.timeoutSeconds));
  const running = new Map<number, Task>();
  let jobsCanceled = false;
  if (stoppedBy === undefined) run.status = 'Running';

  // Every pass first takes in whatever finished, so no finished task is ever put into a
  // new Task.any (it would never fire there).
  for (;;) {
    for (const [index, task] of running) {
      if (!task.isCompleted && !task.isFaulted) continue;
      running.delete(index);
      const state = jobState.get(index)!;
      settle(state, task.isCompleted ? (task.result as JobResult) : failedByError(state, task.result, nowIso(context)));
      if (state.status !== 'Succeeded' && stoppedBy === undefined) {
        stoppedBy = 'Failed';
        run.message = `job ${state.name} ${state.status.toLowerCase()}`;
      }
    }
    if (stoppedBy === undefined && cancel.isCompleted) {
      stoppedBy = 'Canceled';
      run.message = 'canceled';
    }
    if (stoppedBy === undefined && deadline?.isCompleted) {
      stoppedBy = 'Failed';
      run.message = `workflow timed out after ${spec.timeoutSeconds}s`;
    }
    if (stoppedBy !== undefined && running.size > 0 && !jobsCanceled) {
      jobsCanceled = true;
      publish();
      const jobNames = [...running.keys()].map((i) => jobState.get(i)!.name);
      try {
        yield* withRetries(context, () => call(cancelJobs, { workflowId, jobNames, reason: run.message ?? stoppedBy! }));
      } catch (err) {
        // The jobs still stop at their own deadlines, and cleanup removes them.
        if (!context.df.isReplaying) context.warn(`workflow ${workflowId}: could not cancel jobs: ${errorMessage(err)}`);
      }
      continue;
    }
    if (stoppedBy === undefined) {
      for (const index of readyJobs(deps, statuses())) {
        const state = jobState.get(index)!;
        state.status = 'Running';
        state.startedAt = nowIso(context);
        state.attempts = 1;
        running.set(index, jobOrchestration(jobInputFor(input, index), jobInstanceId(workflowId, state.name)));
      }
    }
    publish();
    if (running.size === 0) break;
    const waitFor: Task[] = [...running.values()];
    if (stoppedBy === undefined) {
      waitFor.push(cancel);
      if (deadline !== undefined) waitFor.push(deadline);
    }
    yield context.df.Task.any(waitFor);
  }
  if (deadline !== undefined && !deadline.isCompleted) deadline.cancel();

  const outcome = runOutcome(stoppedBy, statuses());
  for (const job of run.jobs) if (job.status === 'Pending') job.status = neverStartedStatus(outcome === 'Canceled' ? 'Canceled' : 'Failed');
  run.status = outcome;
  publish();

  try {
    yield* withRetries(context, () => call(recordWorkflowFinished, {
      caller, workflowId, status: outcome, jobs: run.jobs.map(({ name, status, exitCode }) => ({ name, status, exitCode })),
    }));
  } catch (err) {
    if (!context.df.isReplaying) context.error(`workflow ${workflowId}: finish not recorded on the ledger: ${errorMessage(err)}`);
  }
  yield* withRetries(context, () => call(requestCleanup, {
    workflowId, caller, status: outcome, datasetIds: run.datasetIds, releaseLeases: input.options.releaseLeases,
  }));
  return run;
}

function jobInputFor(input: WorkflowInput, index: number): JobInput {
  const job = input.spec.jobs.find((j) => j.index === index)!;
  return {
    workflowId: input.workflowId,
    caller: input.caller,
    job,
    image: job.image ?? input.spec.image ?? input.timing.defaultImage,
    timeoutSeconds: job.timeoutSeconds ?? input.timing.defaultJobTimeoutSeconds,
    timing: { statusPollSeconds: input.timing.statusPollSeconds, completionGraceSeconds: input.timing.completionGraceSeconds },
  };
}

function settle(state: JobState, result: JobResult): void {
  Object.assign(state, result);
}

/** A job sub-orchestration that threw (a bug or an unexpected failure) counts as failed. */
function failedByError(state: JobState, err: unknown, now: string): JobResult {
  return { status: 'Failed', exitCode: null, startedAt: state.startedAt, endedAt: now, attempts: state.attempts, message: errorMessage(err) };
}

export const WORKFLOW_ORCHESTRATOR = 'workflowOrchestrator';
export const workflowOrchestration = df.app.orchestration(WORKFLOW_ORCHESTRATOR, workflowOrchestrator);
