import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { OutputManifest } from '../../core/model';
import { outputManifest } from '../../core/workflow/outputs';
import { jobInstanceId, type JobRunStatus } from '../../core/workflow/run';
import { LedgerflowError } from '../../core/errors';
import type { ByteSource, ComputeBackend, JobHandle, TimedLine, TimedLogQuery } from '../../ports/compute';
import type { RunControl } from './runControl';

/**
 * A run's outputs as they are now: what its finish records on the ledger, and what a
 * release checks again before it commits. A log is hashed as the logs route serves it (the
 * same ByteSource), so the hash on the ledger is the hash of what the requester gets.
 */

/** The handle of a job's latest attempt, or undefined when the job never started. */
async function latestAttempt(runs: RunControl, workflowId: string, jobName: string): Promise<JobHandle | undefined> {
  const job = await runs.get(jobInstanceId(workflowId, jobName));
  return (job?.customStatus as JobRunStatus | null | undefined)?.handle;
}

/** The log of a job's latest attempt, or undefined when the job never started. */
export async function openJobLog(runs: RunControl, compute: ComputeBackend, workflowId: string, jobName: string): Promise<ByteSource | undefined> {
  const handle = await latestAttempt(runs, workflowId, jobName);
  if (handle === undefined) return undefined;
  return compute.openLog !== undefined ? compute.openLog(handle) : bufferSource(Buffer.from(await compute.logs(handle), 'utf8'));
}

/** The timed lines of a job's latest attempt (ComputeBackend.timedLog), or undefined when
 * the job never started. */
export async function openTimedJobLog(
  runs: RunControl,
  compute: ComputeBackend,
  workflowId: string,
  jobName: string,
  query: TimedLogQuery,
): Promise<AsyncIterable<TimedLine> | Iterable<TimedLine> | undefined> {
  if (compute.timedLog === undefined)
    throw new LedgerflowError('bad_request', `the ${compute.kind} backend keeps no times of log lines: since and timestamps are not available`);
  const handle = await latestAttempt(runs, workflowId, jobName);
  return handle === undefined ? undefined : compute.timedLog(handle, query);
}

export async function currentOutputs(
  runs: RunControl,
  compute: ComputeBackend,
  workflowId: string,
  submitted: readonly { path: string; sha256: string }[],
  jobNames: readonly string[],
  recordedLogs?: OutputManifest['logs'],
): Promise<OutputManifest> {
  const files = compute.workspaceFiles === undefined ? [] : await compute.workspaceFiles(workflowId);
  if (recordedLogs !== undefined) return outputManifest(files, submitted, recordedLogs);
  const logs: OutputManifest['logs'] = [];
  for (const job of jobNames) {
    const log = await openJobLog(runs, compute, workflowId, job);
    if (log !== undefined) logs.push({ job, size: log.size, sha256: await digest(log) });
  }
  return outputManifest(files, submitted, logs);
}

async function digest(source: ByteSource): Promise<string> {
  const hash = createHash('sha256');
  if (source.size === 0) await source.close();
  else for await (const chunk of source.read(0, source.size - 1)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A whole buffer as a ByteSource, for backends that can only fetch a file at once. */
export function bufferSource(buffer: Buffer): ByteSource {
  return { size: buffer.length, read: (start, end) => Readable.from([buffer.subarray(start, end + 1)]), close: async () => undefined };
}
