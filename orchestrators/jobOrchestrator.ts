import * as df from 'durable-functions';
import type { OrchestrationContext, Task, TimerTask } from 'durable-functions';
import { errorMessage } from '../src/core/errors';
import { WORKFLOW_EVENTS, type JobCompletion, type JobInput, type JobResult } from '../src/core/workflow/run';
import type { JobHandle } from '../src/ports/compute';
import { call } from './activities/define';
import { cancelJob, jobStatus, launchJob } from './activities/jobs';
import { checkLeases } from './activities/leases';
import { nowIso, secondsAfter } from './retry';

/** How one attempt of a job ended, as far as this orchestrator saw. */
type AttemptEnd =
  | { kind: 'exited'; exitCode: number; startedAt?: string; endedAt?: string }
  | { kind: 'failed'; message: string }
  | { kind: 'canceled' };

/**
 * One job of a run: lease check, launch, wait, and retry up to the spec's `retries`.
 * Waiting is on the `job-completed` event raised by the job's callback, with a periodic
 * status check (a lost callback never hangs the run) and a deadline (the job's timeout
 * plus grace). A `cancel` event from the workflow orchestrator stops the job.
 * Deterministic: time only from the context, I/O only through activities.
 */
export function* jobOrchestrator(context: OrchestrationContext): Generator<Task, JobResult, unknown> {
  const input = context.df.getInput<JobInput>();
  const { job } = input;
  const cancel = context.df.waitForExternalEvent(WORKFLOW_EVENTS.cancel);
  const datasetIds = job.volumes.map((v) => v.id);
  let result: JobResult = { status: 'Failed', exitCode: null, startedAt: null, endedAt: null, attempts: 0 };

  for (let attempt = 1; attempt <= job.retries + 1; attempt++) {
    if (cancel.isCompleted) return { ...result, status: 'Canceled' };
    if (datasetIds.length > 0) {
      const { missing } = yield* call(checkLeases, { caller: input.caller, datasetIds });
      // A lease does not come back by retrying: stop here.
      if (missing.length > 0) return { ...result, status: 'Failed', message: `dataset lease no longer held: ${missing.join(', ')}` };
    }
    const launchedAt = nowIso(context);
    let handle: JobHandle;
    try {
      handle = yield* call(launchJob, {
        workflowId: input.workflowId, caller: input.caller, job, image: input.image, timeoutSeconds: input.timeoutSeconds, attempt,
      });
    } catch (err) {
      result = { status: 'Failed', exitCode: null, startedAt: launchedAt, endedAt: nowIso(context), attempts: attempt, message: `launch failed: ${errorMessage(err)}` };
      continue;
    }
    const end = yield* awaitAttempt(context, input, attempt, handle, cancel);
    const endedAt = nowIso(context);
    switch (end.kind) {
      case 'canceled':
        return { status: 'Canceled', exitCode: null, startedAt: launchedAt, endedAt, attempts: attempt };
      case 'failed':
        result = { status: 'Failed', exitCode: null, startedAt: launchedAt, endedAt, attempts: attempt, message: end.message };
        break;
      case 'exited':
        result = {
          status: end.exitCode === 0 ? 'Succeeded' : 'Failed',
          exitCode: end.exitCode,
          startedAt: end.startedAt ?? launchedAt,
          endedAt: end.endedAt ?? endedAt,
          attempts: attempt,
        };
        if (result.status === 'Succeeded') return result;
        break;
    }
  }
  return result;
}

function* awaitAttempt(
  context: OrchestrationContext,
  input: JobInput,
  attempt: number,
  handle: JobHandle,
  cancel: Task,
): Generator<Task, AttemptEnd, unknown> {
  const deadline = context.df.createTimer(secondsAfter(context, input.timeoutSeconds + input.timing.completionGraceSeconds));
  let completed = context.df.waitForExternalEvent(WORKFLOW_EVENTS.jobCompleted);
  let poll: TimerTask | undefined;
  try {
    // Every branch checks for results before yielding again: a task that finished while
    // we were busy elsewhere must not be put into a new Task.any (it would never fire).
    for (;;) {
      if (cancel.isCompleted) {
        yield* call(cancelJob, { handle });
        return { kind: 'canceled' };
      }
      if (completed.isCompleted) {
        const event = completed.result as JobCompletion;
        if (event.attempt === attempt) {
          return { kind: 'exited', exitCode: event.exitCode, ...(event.startedAt && { startedAt: event.startedAt }), ...(event.endedAt && { endedAt: event.endedAt }) };
        }
        completed = context.df.waitForExternalEvent(WORKFLOW_EVENTS.jobCompleted); // a late report of an earlier attempt
        continue;
      }
      if (deadline.isCompleted) {
        yield* call(cancelJob, { handle });
        return { kind: 'failed', message: `timed out after ${input.timeoutSeconds}s` };
      }
      if (poll?.isCompleted) {
        poll = undefined;
        const seen = yield* observe(handle);
        if (seen !== undefined) return seen;
        continue;
      }
      poll ??= context.df.createTimer(secondsAfter(context, input.timing.statusPollSeconds));
      yield context.df.Task.any([completed, cancel, deadline, poll]);
    }
  } finally {
    for (const timer of [deadline, poll]) if (timer !== undefined && !timer.isCompleted) timer.cancel();
  }
}

/** The backend's view of the job; undefined while it still runs (or cannot be asked). */
function* observe(handle: JobHandle): Generator<Task, AttemptEnd | undefined, unknown> {
  try {
    const seen = yield* call(jobStatus, { handle });
    if (seen.phase === 'Succeeded' || seen.phase === 'Failed') {
      const exitCode = seen.exitCode ?? (seen.phase === 'Succeeded' ? 0 : 1);
      return { kind: 'exited', exitCode, ...(seen.startedAt && { startedAt: seen.startedAt }), ...(seen.endedAt && { endedAt: seen.endedAt }) };
    }
  } catch {
    // The next check, the callback or the deadline will settle it.
  }
  return undefined;
}

export const JOB_ORCHESTRATOR = 'jobOrchestrator';
export const jobOrchestration = df.app.orchestration(JOB_ORCHESTRATOR, jobOrchestrator);
