import { LedgerflowError } from '../../core/errors';
import type { ResultsState } from '../../core/model';
import { cleanupInstanceId, isFinished, jobInstanceId, ORCHESTRATORS } from '../../core/workflow/run';
import type { Logger } from '../../observability/logger';
import type { ComputeBackend } from '../../ports/compute';
import type { RunIndex } from '../../ports/runIndex';
import type { RunMessages } from '../../ports/runMessages';
import type { RunControl, RunRecord } from './runControl';
import { ensureIndexed } from './runIndexing';
import { factsOf, viewOf, type RunFacts } from './views';

/**
 * Retention: a finished run is purged whole (its workspace and logs, every durable instance
 * of the run: the workflow, one per job, the cleanup; its queue messages; its index row),
 * either when it is older than WORKFLOW_RETENTION (the `purgeWorkflows` timer) or at once on
 * `DELETE /workflows/{id}`. The ledger keeps the run's records: nothing here writes to it.
 * Afterwards GET /workflows/{id} answers 404.
 */
export interface RetentionDeps {
  index: RunIndex;
  /** The review state of the run's outputs on the ledger; undefined when none was recorded. */
  resultsState(id: string): Promise<ResultsState | undefined>;
  runs: RunControl;
  compute: ComputeBackend;
  messages: RunMessages;
  log: Logger;
  now(): Date;
}

export interface PurgeCounts {
  /** Durable instances deleted (workflow, jobs, cleanup). */
  instances: number;
  /** Queue messages deleted. */
  messages: number;
}

const ORPHAN_AGE_MS = 3_600_000;

/** Runtime states in which an orchestration may still write. */
const ACTIVE = new Set(['Pending', 'Running', 'ContinuedAsNew', 'Suspended']);

/**
 * Why the run may not be purged yet, or undefined when it may. Nothing of a run that is
 * running, or whose cleanup has not ended, is touched; nor the outputs of a run that wait
 * for their owners' review: purging them would decide for the owners (and the requester's
 * DELETE must not be a way around a review).
 */
export function purgeBlocker(record: RunRecord, facts: RunFacts, cleanup: RunRecord | undefined, results: ResultsState | undefined): string | undefined {
  const view = viewOf(record, facts);
  if (ACTIVE.has(record.runtimeStatus) || !isFinished(view.status)) return `it is ${view.status}`;
  if (results === 'pending-review') return "its outputs await their owners' review";
  // An orchestration that ran to its end always asked for cleanup (its last step); one that
  // crashed or was terminated never will, so only the former waits for it.
  if (record.runtimeStatus === 'Completed' && (cleanup === undefined || ACTIVE.has(cleanup.runtimeStatus))) return 'its cleanup has not finished';
  return undefined;
}

/**
 * Purges one run, in an order that a crash part way can repeat: files and messages first,
 * then the job and cleanup instances, the workflow instance (which names the jobs) last but
 * one, and the index row last. A run whose workflow instance is already gone has only its
 * leftovers removed. Throws `conflict` when the run may not be purged.
 */
export async function purgeRun(deps: RetentionDeps, id: string): Promise<PurgeCounts> {
  const record = await deps.runs.get(id);
  const facts = record === undefined || record.name !== ORCHESTRATORS.workflow ? undefined : factsOf(record);
  const cleanupId = cleanupInstanceId(id);
  if (record !== undefined && facts !== undefined) {
    const blocker = purgeBlocker(record, facts, await deps.runs.get(cleanupId), await deps.resultsState(id));
    if (blocker !== undefined)
      throw new LedgerflowError('conflict', `workflow ${id} cannot be deleted yet: ${blocker}`, { data: { status: viewOf(record, facts).status } });
  }
  await purgeFiles(deps.compute, id);
  const messages = await deps.messages.deleteFor(id);
  let instances = 0;
  for (const job of facts?.spec?.jobs ?? []) instances += await deps.runs.purge(jobInstanceId(id, job.name));
  instances += await deps.runs.purge(cleanupId);
  if (record !== undefined) instances += await deps.runs.purge(id);
  await deps.index.remove(id);
  deps.log.info({ workflowId: id, instances, messages, workspace: 'removed' }, 'workflow run purged');
  return { instances, messages };
}

/** Workspace and logs; where the backend has no purge, its cleanup already removes the
 * run's storage (the cluster backends delete the workspace claim). */
async function purgeFiles(compute: ComputeBackend, id: string): Promise<void> {
  await (compute.purge !== undefined ? compute.purge(id) : compute.cleanup(id));
}

/**
 * One retention pass: purges the runs that ended more than `retentionMs` ago (0: none), in
 * batches, until a batch purges nothing more. First it checks old rows the index still has
 * as unfinished against the durable state (a run that crashed never reported its end; a row
 * whose run never started is removed with its workspace).
 */
export async function purgeExpired(deps: RetentionDeps, retentionMs: number, batch = 100): Promise<{ purged: string[]; held: string[] }> {
  const purged: string[] = [];
  const held = new Set<string>();
  if (retentionMs === 0) return { purged, held: [] };
  await ensureIndexed(deps.index, deps.runs, deps.log);
  const cutoff = new Date(deps.now().getTime() - retentionMs);
  // A row without an instance is a submit that failed between index and start, unless it is
  // recent (a start in progress): only rows older than an hour count as such.
  const orphanCutoff = Math.min(cutoff.getTime(), deps.now().getTime() - ORPHAN_AGE_MS);
  for (const row of await deps.index.unfinishedBefore(cutoff, batch)) {
    const record = await deps.runs.get(row.id);
    const facts = record === undefined ? undefined : factsOf(record);
    if (record === undefined || facts === undefined) {
      if (Date.parse(row.createdAt) >= orphanCutoff) continue;
      await purgeRun(deps, row.id);
      purged.push(row.id);
    } else {
      const status = viewOf(record, facts).status;
      if (status !== row.status) await deps.index.setStatus(row.id, status, deps.now());
    }
  }
  for (;;) {
    const rows = (await deps.index.finishedBefore(cutoff, batch + held.size)).filter((r) => !held.has(r.id));
    if (rows.length === 0) break;
    for (const row of rows) {
      try {
        await purgeRun(deps, row.id);
        purged.push(row.id);
      } catch (err) {
        if (!(err instanceof LedgerflowError) || err.code !== 'conflict') throw err;
        held.add(row.id);
        deps.log.info({ workflowId: row.id, reason: err.message }, 'retention: run kept for now');
      }
    }
    if (rows.length < batch) break;
  }
  if (purged.length > 0) await deps.index.compact();
  if (purged.length > 0 || held.size > 0) deps.log.info({ purged: purged.length, held: held.size, retentionMs }, 'retention pass');
  return { purged, held: [...held] };
}
