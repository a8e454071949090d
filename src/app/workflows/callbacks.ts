import type { CompletionReport } from '../../api/messages';
import { LedgerflowError } from '../../core/errors';
import { callbackTokenMatches } from '../../core/workflow/callbackToken';
import { jobInstanceId, WORKFLOW_EVENTS, type JobCompletion } from '../../core/workflow/run';
import type { RunControl } from './runControl';

/**
 * A job's completion report: the bearer token must be the one derived for exactly this
 * workflow, job and attempt; then `job-completed` goes to the job's orchestration.
 * Idempotent: a repeated report of an attempt the orchestrator has moved past is ignored
 * by it, and one for a finished orchestration is accepted and dropped by the backend.
 */
export async function acceptCompletion(report: CompletionReport, bearer: string | undefined, key: Buffer, runs: RunControl): Promise<void> {
  if (bearer === undefined || !callbackTokenMatches(key, report.workflowId, report.jobName, report.attempt, bearer)) {
    throw new LedgerflowError('unauthenticated', 'the callback token does not match this job');
  }
  await raiseCompletion(report, runs);
}

/** `job-completed` to the job's orchestration: what the callback and the start-up scan of
 * unreported exits (exitDelivery.ts) both raise. */
export async function raiseCompletion(report: CompletionReport, runs: RunControl): Promise<void> {
  const event: JobCompletion = {
    attempt: report.attempt,
    exitCode: report.exitCode,
    ...(report.startedAt !== undefined && { startedAt: report.startedAt }),
    ...(report.endedAt !== undefined && { endedAt: report.endedAt }),
    ...(report.message !== undefined && { message: report.message }),
  };
  await runs.raise(jobInstanceId(report.workflowId, report.jobName), WORKFLOW_EVENTS.jobCompleted, event);
}

/** The bearer token of an Authorization header, if it has one. */
export function bearerOf(authorization: string | null): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}
