import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import { errorMessage } from '../src/core/errors';
import type { JobStatus, OutputManifest } from '../src/core/model';
import { JobGraph } from '../src/core/workflow/dag';
import { neverStartedStatus, readyJobs, runOutcome } from '../src/core/workflow/progress';
import {
  cancelMessage,
  initialJobStates,
  jobFinishedEvent,
  jobInstanceId,
  ORCHESTRATORS,
  WORKFLOW_EVENTS,
  type JobInput,
  type JobResult,
  type JobState,
  type RunOutcome,
  type WorkflowInput,
  type WorkflowRunStatus,
} from '../src/core/workflow/run';
import { datasetIdsOf, imageOf } from '../src/core/workflow/spec';
import { awaitApprovals } from './approvalWait';
import { call } from './activities/define';
import { requestCleanup } from './activities/cleanup';
import { cancelJobs } from './activities/control';
import { leasesLost } from './activities/leases';
import { recordWorkflowFinished, recordWorkflowLaunched } from './activities/ledger';
import { collectOutputs } from './activities/results';
import { jobOrchestration } from './jobOrchestrator';
import { nowIso, secondsAfter, withRetries } from './retry';

/**
 * One workflow run (instance id = workflow id). Waits for the owners' approvals where a
 * mounted dataset needs them (approvalWait.ts), records the launch on the ledger, drives
 * the DAG with one job sub-orchestration per job (independent jobs in parallel), stops
 * early on the first failed job (fail-fast: running jobs canceled, the rest Skipped) or on
 * a `cancel` event (running jobs canceled, the rest Canceled), records the finish, and
 * queues the cleanup. Its custom status is the run's public state, refreshed on every
 * change.
 *
 * Waiting on a changing set of running jobs without re-yielding them: each job's
 * sub-orchestration is put into a Task.any once, when it starts; after that the
 * orchestrator waits on the job's report event (`job-finished-<index>`, raised by the job's
 * orchestrator), because the out-of-process protocol has no task ids and would schedule a
 * sub-orchestration or timer again if it appeared in a second Task.any
 * (azure-functions-durable-js#574). Event waits schedule nothing and may be re-used; the
 * one timer of a pass (the run's deadline, or a watchdog that notices a job orchestration
 * which ended without reporting) is created afresh on every pass that needs one. A job
 * started alone while nothing else runs needs no report of its success: the pass waits on
 * its sub-orchestration (see docs/workflows.md for why that stays safe on cancel).
 * Deterministic: time only from the context, I/O only through activities.
 */
export function* workflowOrchestrator(context: OrchestrationContext): Generator<Task, WorkflowRunStatus, unknown> {
  const input = context.df.getInput<WorkflowInput>();
  const { workflowId, caller, spec } = input;
  const run: WorkflowRunStatus = { status: 'Pending', submittedBy: caller, datasetIds: datasetIdsOf(spec), jobs: initialJobStates(spec) };
  const publish = () => context.df.setCustomStatus({ ...run, jobs: run.jobs.map((j) => ({ ...j })) });
  const jobState = new Map(run.jobs.map((j) => [j.index, j]));
  const statuses = () => new Map<number, JobStatus>(run.jobs.map((j) => [j.index, j.status]));
  const cancel = context.df.waitForExternalEvent(WORKFLOW_EVENTS.cancel);
  if (input.approvalDatasetIds.length > 0) run.status = 'AwaitingApproval';
  publish();

  // Nothing is launched, and nothing reaches the ledger's workflow record, before every
  // owner whose dataset asks for it has approved this exact spec and files.
  const stop = input.approvalDatasetIds.length === 0 ? undefined : yield* awaitApprovals(context, input, run, publish, cancel);
  if (stop !== undefined) {
    for (const job of run.jobs) job.status = neverStartedStatus(stop.status === 'Failed' ? 'Failed' : 'Canceled');
    Object.assign(run, stop);
    publish();
    yield* cleanup(context, input, run.status as RunOutcome, false);
    return run;
  }
  run.status = 'Pending';

  let stoppedBy: 'Failed' | 'Canceled' | undefined;
  // The ledger records the use of datasets (its workflow records name at least one); a run
  // that mounts none has nothing to record there.
  let launched = run.datasetIds.length > 0;
  // The versions the ledger recorded at the launch: the jobs mount these to the end.
  let datasetVersions: Record<string, number> | undefined;
  try {
    if (launched) {
      const record = yield* withRetries(context, () =>
        call(recordWorkflowLaunched, { caller, workflowId, spec, filesHash: input.filesHash, defaultImage: input.timing.defaultImage }),
      );
      // A history recorded before launches answered versions holds null here.
      datasetVersions = record?.datasetVersions;
      if (datasetVersions !== undefined) run.datasetVersions = datasetVersions;
    }
  } catch (err) {
    stoppedBy = 'Failed';
    launched = false;
    run.message = `launch could not be recorded on the ledger: ${errorMessage(err)}`;
  }

  const graph = JobGraph.of(spec);
  const deadline = spec.timeoutSeconds === undefined ? undefined : secondsAfter(context, spec.timeoutSeconds).getTime();
  const running = new Map<number, RunningJob>();
  let jobsCanceled = false;
  if (stoppedBy === undefined) run.status = 'Running';

  // Every pass first takes in whatever has finished (a report may have arrived while an
  // activity ran), then decides, then waits.
  for (;;) {
    for (const [index, job] of running) {
      const result = finishedResult(job, jobState.get(index)!, nowIso(context));
      if (result === undefined) continue;
      running.delete(index);
      const state = jobState.get(index)!;
      Object.assign(state, result);
      if (state.status !== 'Succeeded' && stoppedBy === undefined) {
        stoppedBy = 'Failed';
        run.message = `job ${state.name} ${state.status.toLowerCase()}`;
      }
    }
    if (stoppedBy === undefined && cancel.isCompleted) {
      stoppedBy = 'Canceled';
      run.message = cancelMessage(cancel.result);
    }
    if (stoppedBy === undefined && deadline !== undefined && context.df.currentUtcDateTime.getTime() >= deadline) {
      stoppedBy = 'Failed';
      run.message = `workflow timed out after ${spec.timeoutSeconds}s`;
    }
    if (stoppedBy !== undefined && running.size > 0 && !jobsCanceled) {
      jobsCanceled = true;
      publish();
      const jobNames = [...running.keys()].map((i) => jobState.get(i)!.name);
      try {
        yield* withRetries(context, () => call(cancelJobs, { workflowId, jobNames, reason: run.message ?? 'stopped' }));
      } catch (err) {
        // The jobs still stop at their own deadlines, and cleanup removes them.
        if (!context.df.isReplaying) context.warn(`workflow ${workflowId}: could not cancel jobs: ${errorMessage(err)}`);
      }
      continue;
    }
    const waitFor: Task[] = [];
    // Jobs that were running before this pass are watched through their report events.
    const watched = running.size;
    if (stoppedBy === undefined) {
      const ready = readyJobs(graph, statuses());
      // A job started alone while nothing else runs is the only job this pass waits for:
      // its sub-orchestration's completion ends the pass, so a success needs no report.
      const alone = ready.length === 1 && watched === 0;
      for (const index of ready) {
        const state = jobState.get(index)!;
        state.status = 'Running';
        state.startedAt = nowIso(context);
        state.attempts = 1;
        const job: RunningJob = {
          finished: context.df.waitForExternalEvent(jobFinishedEvent(index)),
          orchestration: jobOrchestration(jobInputFor(input, index, !alone, datasetVersions), jobInstanceId(workflowId, state.name)),
        };
        running.set(index, job);
        waitFor.push(job.orchestration); // scheduled here, and never put into a Task.any again
      }
    }
    publish();
    if (running.size === 0) break;
    for (const job of running.values()) waitFor.push(job.finished);
    if (stoppedBy === undefined) waitFor.push(cancel);
    // The watchdog is for jobs watched by report alone; a pass that waits on every running
    // job's sub-orchestration needs none (and leaves no timer behind to fire later).
    const now = context.df.currentUtcDateTime.getTime();
    const wakeAt = Math.min(watched > 0 ? now + input.timing.watchdogSeconds * 1000 : Infinity, stoppedBy === undefined ? (deadline ?? Infinity) : Infinity);
    const timer = wakeAt < Infinity ? context.df.createTimer(new Date(wakeAt)) : undefined;
    yield context.df.Task.any(timer === undefined ? waitFor : [...waitFor, timer]);
    if (timer !== undefined && !timer.isCompleted) timer.cancel();
  }

  let outcome = runOutcome(stoppedBy, statuses());
  // A last job that ended on its own between a lease's end and the cancel it causes must not
  // make the run a success on a lease that is gone.
  if (outcome === 'Succeeded' && launched) {
    try {
      const lost = yield* withRetries(context, () => call(leasesLost, { caller, datasetIds: run.datasetIds }));
      if (lost.length > 0) {
        outcome = 'Canceled';
        run.message = lost.join('; ');
      }
    } catch (err) {
      if (!context.df.isReplaying) context.warn(`workflow ${workflowId}: leases not checked at the finish: ${errorMessage(err)}`);
    }
  }
  for (const job of run.jobs) if (job.status === 'Pending') job.status = neverStartedStatus(outcome === 'Canceled' ? 'Canceled' : 'Failed');

  // The outputs are listed and hashed once every job has ended, and recorded with the finish.
  let outputs: OutputManifest | undefined;
  if (launched) {
    try {
      const collected = yield* withRetries(context, () =>
        call(collectOutputs, { caller, workflowId, submitted: input.review.files, jobs: run.jobs.map((j) => j.name) }),
      );
      outputs = collected.outputs;
      if (collected.exceeded !== undefined) {
        outcome = 'Failed';
        run.message = `the outputs take ${collected.exceeded.bytes} bytes, more than the smallest maxResultBytes of the run's datasets (${collected.exceeded.limit}); they are not served`;
      }
    } catch (err) {
      outcome = 'Failed';
      run.message = `the outputs could not be listed: ${errorMessage(err)}`;
    }
  }
  let results: 'keep' | 'delete' | undefined;
  try {
    if (launched) {
      const finished = yield* withRetries(context, () =>
        call(recordWorkflowFinished, {
          caller,
          workflowId,
          status: outcome,
          jobs: run.jobs.map(({ name, status, exitCode }) => ({ name, status, exitCode })),
          ...(outputs === undefined ? {} : { outputs }),
        }),
      );
      results = finished.results === 'rejected' ? 'delete' : finished.results === 'pending-review' ? 'keep' : undefined;
    }
  } catch (err) {
    if (!context.df.isReplaying) context.error(`workflow ${workflowId}: finish not recorded on the ledger: ${errorMessage(err)}`);
  }
  // Published once the finish is on the ledger: a run that reads as ended has its outputs
  // recorded (GET /workflows/{id}/results answers from then on).
  run.status = outcome;
  publish();
  yield* cleanup(context, input, outcome, launched, results);
  return run;
}

function* cleanup(
  context: OrchestrationContext,
  input: WorkflowInput,
  status: RunOutcome,
  launched: boolean,
  outputs?: 'keep' | 'delete',
): Generator<Task, void, unknown> {
  const { workflowId, caller } = input;
  yield* withRetries(context, () =>
    call(requestCleanup, {
      workflowId,
      caller,
      status,
      datasetIds: datasetIdsOf(input.spec),
      releaseLeases: input.options.releaseLeases,
      ...(!launched && { launched }),
      ...(outputs === 'delete' && { deleteOutputs: true }),
      ...(outputs === 'keep' && { keepOutputs: true }),
    }),
  );
}

function jobInputFor(input: WorkflowInput, index: number, reportSuccess: boolean, datasetVersions: Record<string, number> | undefined): JobInput {
  const job = input.spec.jobs.find((j) => j.index === index)!;
  return {
    workflowId: input.workflowId,
    caller: input.caller,
    job,
    image: imageOf(input.spec, job, input.timing.defaultImage),
    timeoutSeconds: job.timeoutSeconds ?? input.timing.defaultJobTimeoutSeconds,
    timing: { statusPollSeconds: input.timing.statusPollSeconds, completionGraceSeconds: input.timing.completionGraceSeconds },
    ...(!reportSuccess && { reportSuccess }),
    ...(datasetVersions !== undefined && { datasetVersions }),
  };
}

/** A running job: its sub-orchestration and the wait for its report. */
interface RunningJob {
  orchestration: Task;
  finished: Task;
}

/** A job's result once it is known, from its report or from its sub-orchestration's end
 * (whichever came first); a sub-orchestration that threw counts as failed. */
function finishedResult(job: RunningJob, state: JobState, now: string): JobResult | undefined {
  if (job.finished.isCompleted) return job.finished.result as JobResult;
  if (job.orchestration.isCompleted) return job.orchestration.result as JobResult;
  if (job.orchestration.isFaulted) {
    return {
      status: 'Failed',
      exitCode: null,
      startedAt: state.startedAt,
      endedAt: now,
      attempts: state.attempts,
      message: errorMessage(job.orchestration.result),
    };
  }
  return undefined;
}

export const workflowOrchestration = df.app.orchestration(ORCHESTRATORS.workflow, workflowOrchestrator);
