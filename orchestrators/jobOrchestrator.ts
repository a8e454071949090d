import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import { errorMessage } from '../src/core/errors';
import { ORCHESTRATORS, WORKFLOW_EVENTS, type JobCompletion, type JobInput, type JobResult, type JobRunStatus } from '../src/core/workflow/run';
import type { JobHandle } from '../src/ports/compute';
import { call } from './activities/define';
import { notifyWorkflow } from './activities/control';
import { cancelJob, jobStatus, launchJob, type LaunchJobResult } from './activities/jobs';
import { nowIso, secondsAfter, withRetries } from './retry';

/** How one attempt of a job ended, as far as this orchestrator saw. */
type AttemptEnd =
  | { kind: 'exited'; exitCode: number | null; startedAt?: string; endedAt?: string; message?: string }
  | { kind: 'failed'; message: string }
  | { kind: 'canceled' };

/**
 * One job of a run (instance id: jobInstanceId(workflowId, jobName)): launch (after a
 * lease check, in the same activity), wait, and retry up to the spec's `retries`. It waits for the `job-completed` event that
 * the job's callback raises, with a status check every `statusPollSeconds` (a lost callback
 * never hangs the run) and a deadline (the job's timeout plus grace); a `cancel` event
 * from the workflow orchestrator stops the job. The result goes to the workflow
 * orchestrator as this orchestration's output and, unless the input says a success need
 * not be (`reportSuccess: false`), also as an event.
 *
 * Replay rules kept here: time only from the context, I/O only through activities, and
 * no scheduled timer or activity is ever put into a second Task.any (the out-of-process
 * protocol has no task ids and would schedule it again: azure-functions-durable-js#574);
 * only event waits, which schedule nothing, are re-used.
 */
export function* jobOrchestrator(context: OrchestrationContext): Generator<Task, JobResult, unknown> {
  const input = context.df.getInput<JobInput>();
  let result: JobResult;
  try {
    result = yield* runJob(context, input);
  } catch (err) {
    result = {
      status: 'Failed',
      exitCode: null,
      startedAt: null,
      endedAt: nowIso(context),
      attempts: 0,
      message: `job orchestration failed: ${errorMessage(err)}`,
    };
  }
  if (input.reportSuccess !== false || result.status !== 'Succeeded') {
    yield* withRetries(context, () => call(notifyWorkflow, { workflowId: input.workflowId, jobIndex: input.job.index, result }));
  }
  return result;
}

function* runJob(context: OrchestrationContext, input: JobInput): Generator<Task, JobResult, unknown> {
  const { job } = input;
  const cancel = context.df.waitForExternalEvent(WORKFLOW_EVENTS.cancel);
  let result: JobResult = { status: 'Failed', exitCode: null, startedAt: null, endedAt: null, attempts: 0 };

  for (let attempt = 1; attempt <= job.retries + 1; attempt++) {
    if (cancel.isCompleted) return { ...result, status: 'Canceled' };
    const launchedAt = nowIso(context);
    let launched: LaunchJobResult;
    try {
      launched = yield* call(launchJob, {
        workflowId: input.workflowId,
        caller: input.caller,
        job,
        image: input.image,
        timeoutSeconds: input.timeoutSeconds,
        attempt,
        ...(input.datasetVersions !== undefined && { datasetVersions: input.datasetVersions }),
      });
    } catch (err) {
      result = {
        status: 'Failed',
        exitCode: null,
        startedAt: launchedAt,
        endedAt: nowIso(context),
        attempts: attempt,
        message: `launch failed: ${errorMessage(err)}`,
      };
      continue;
    }
    // A lease does not come back by retrying: stop here.
    if ('leasesMissing' in launched) {
      return { ...result, status: 'Failed', message: `dataset lease no longer held: ${launched.leasesMissing.join(', ')}` };
    }
    const { handle } = launched;
    const status: JobRunStatus = { attempt, handle };
    context.df.setCustomStatus(status); // where the job's logs are
    const end = yield* awaitAttempt(context, input, attempt, handle, cancel);
    const endedAt = nowIso(context);
    if (end.kind === 'canceled') return { status: 'Canceled', exitCode: null, startedAt: launchedAt, endedAt, attempts: attempt };
    result =
      end.kind === 'failed'
        ? { status: 'Failed', exitCode: null, startedAt: launchedAt, endedAt, attempts: attempt, message: end.message }
        : {
            status: end.exitCode === 0 ? 'Succeeded' : 'Failed',
            exitCode: end.exitCode,
            startedAt: end.startedAt ?? launchedAt,
            endedAt: end.endedAt ?? endedAt,
            attempts: attempt,
            ...(end.exitCode !== 0 && end.message !== undefined && { message: end.message }),
          };
    if (result.status === 'Succeeded') return result;
  }
  return result;
}

function* awaitAttempt(context: OrchestrationContext, input: JobInput, attempt: number, handle: JobHandle, cancel: Task): Generator<Task, AttemptEnd, unknown> {
  const deadline = secondsAfter(context, input.timeoutSeconds + input.timing.completionGraceSeconds).getTime();
  let completed = context.df.waitForExternalEvent(WORKFLOW_EVENTS.jobCompleted);
  // Every pass looks at what has already happened before it yields again: an event may
  // have arrived while an activity ran.
  for (;;) {
    if (cancel.isCompleted) {
      yield* call(cancelJob, { handle });
      return { kind: 'canceled' };
    }
    if (completed.isCompleted) {
      const event = completed.result as JobCompletion;
      if (event.attempt === attempt) return exited(event);
      completed = context.df.waitForExternalEvent(WORKFLOW_EVENTS.jobCompleted); // a late report of an earlier attempt
      continue;
    }
    const now = context.df.currentUtcDateTime.getTime();
    if (now >= deadline) {
      yield* call(cancelJob, { handle });
      return { kind: 'failed', message: `timed out after ${input.timeoutSeconds}s` };
    }
    const wake = context.df.createTimer(new Date(Math.min(now + input.timing.statusPollSeconds * 1000, deadline)));
    const winner = yield context.df.Task.any([completed, cancel, wake]);
    if (winner !== wake) {
      if (!wake.isCompleted) wake.cancel();
      continue;
    }
    if (context.df.currentUtcDateTime.getTime() >= deadline) continue;
    const seen = yield* observe(handle);
    if (seen !== undefined) return seen;
  }
}

/** The backend's view of the job; undefined while it still runs (or cannot be asked). */
function* observe(handle: JobHandle): Generator<Task, AttemptEnd | undefined, unknown> {
  try {
    const seen = yield* call(jobStatus, { handle });
    if (seen.phase === 'Succeeded' || seen.phase === 'Failed') {
      return exited({ ...seen, exitCode: seen.exitCode ?? (seen.phase === 'Succeeded' ? 0 : 1) });
    }
  } catch {
    // The next check, the callback or the deadline settles it.
  }
  return undefined;
}

function exited(end: { exitCode: number | null; startedAt?: string | undefined; endedAt?: string | undefined; message?: string | undefined }): AttemptEnd {
  const { exitCode, startedAt, endedAt, message } = end;
  return {
    kind: 'exited',
    exitCode,
    ...(startedAt !== undefined && { startedAt }),
    ...(endedAt !== undefined && { endedAt }),
    ...(message !== undefined && { message }),
  };
}

export const jobOrchestration = df.app.orchestration(ORCHESTRATORS.job, jobOrchestrator);
