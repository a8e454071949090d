import { LedgerflowError, notFound } from '../../core/errors';
import { needsApproval, withholdsResults } from '../../core/datasets/policy';
import type { Caller, LeaseRecord, Page, WorkflowStatus } from '../../core/model';
import { fileDigest, filesHash } from '../../core/workflow/hash';
import { unleasedVolumes } from '../../core/workflow/leases';
import { isFinished, ORCHESTRATORS, WORKFLOW_EVENTS, type RunTiming, type WorkflowInput } from '../../core/workflow/run';
import { memoryBytes } from '../../core/workflow/quantity';
import { datasetIdsOf, parseWorkflowSpec, type WorkflowSpec } from '../../core/workflow/spec';
import type { Logger } from '../../observability/logger';
import type { ByteSource, ComputeBackend } from '../../ports/compute';
import type { Ledger } from '../../ports/ledger';
import type { RunIndex } from '../../ports/runIndex';
import type { RunMessages } from '../../ports/runMessages';
import type { Submission } from '../../api/workflowRequests';
import { logTail, type LogTail } from './logTail';
import { bufferSource, openJobLog } from './outputs';
import type { ResultsService } from './resultsService';
import type { RunControl, RunRecord } from './runControl';
import { purgeExpired, purgeRun, type PurgeCounts, type RetentionDeps } from './retention';
import { ensureIndexed, finalViewOf, listCursors, reconcile } from './runIndexing';
import { factsOf, viewOf, visibleTo, type RunFacts, type WorkflowView } from './views';

export interface WorkflowServiceDeps {
  ledger: Ledger;
  /** The platform's own identity: reads the ledger where no caller does (retention). */
  platform: Caller;
  compute: ComputeBackend;
  runs: RunControl;
  /** Who may read a run's outputs now. */
  results: ResultsService;
  /** The app's index of runs: listing reads it, never the durable instance store. */
  index: RunIndex;
  /** Signs listing cursors (derived from a platform key). */
  cursorKey(): Promise<Buffer>;
  /** Queue messages about a run, deleted when it is purged. */
  messages: RunMessages;
  timing: RunTiming;
  newId(): string;
  now(): Date;
  log: Logger;
  /** The largest memory a job may ask for (LOCAL_JOB_MAX_MEMORY), where the backend has one. */
  maxJobMemoryBytes?: number;
}

/**
 * The workflow API behind the HTTP routes: submit (parse, lease check, hash, workspace,
 * start), read, list, cancel, logs and result files. A run is visible only to members of
 * the submitter's organization; to anyone else it does not exist (404). Its logs and files
 * are outputs, served as ResultsService allows (reviewing owners too; the requester only
 * when nothing withholds them).
 */
export class WorkflowService {
  constructor(private readonly deps: WorkflowServiceDeps) {}

  /** `id`: the run's id when the caller derives it (a schedule's tick); a new one otherwise. */
  async submit(caller: Caller, submission: Submission, id = this.deps.newId()): Promise<{ id: string; status: 'AwaitingApproval' | 'Pending' }> {
    const spec = parseWorkflowSpec(submission.source);
    const tooBig = this.deps.maxJobMemoryBytes === undefined ? [] : oversized(spec, this.deps.maxJobMemoryBytes);
    if (tooBig.length > 0)
      throw new LedgerflowError('validation_failed', `invalid workflow spec: ${tooBig.map((d) => `${d.path}: ${d.message}`).join('; ')}`, { details: tooBig });
    const session = this.deps.ledger.as(caller);
    const leases = new Map<string, LeaseRecord | undefined>();
    for (const id of datasetIdsOf(spec)) leases.set(id, await session.getLease(id));
    const unleased = unleasedVolumes(spec, leases, caller, this.deps.now());
    if (unleased.length > 0) {
      throw new LedgerflowError('forbidden', 'the workflow mounts datasets the caller has not leased', { details: unleased });
    }
    const approvalDatasetIds: string[] = [];
    let resultsWithheld = false;
    for (const datasetId of leases.keys()) {
      const dataset = await session.getDataset(datasetId);
      if (dataset !== undefined && needsApproval(dataset, caller)) approvalDatasetIds.push(datasetId);
      if (dataset !== undefined && withholdsResults(dataset, caller)) resultsWithheld = true;
    }
    const input: WorkflowInput = {
      workflowId: id,
      caller,
      spec,
      filesHash: filesHash(submission.files),
      approvalDatasetIds,
      resultsWithheld,
      review: {
        workflow: submission.source,
        files: Object.entries(submission.files).map(([path, content]) => ({ path, size: Buffer.byteLength(content), sha256: fileDigest(content) })),
      },
      options: submission.options,
      timing: this.deps.timing,
    };
    await this.deps.compute.prepareWorkspace(id, submission.files);
    // Indexed before it starts, so no run exists that a listing cannot find; a start that
    // fails takes its row back.
    const { index } = this.deps;
    const status = approvalDatasetIds.length > 0 ? 'AwaitingApproval' : 'Pending';
    await index.add({ id, org: caller.org, user: caller.user, createdAt: this.deps.now().toISOString(), status, datasetIds: datasetIdsOf(spec) });
    try {
      await this.deps.runs.start(ORCHESTRATORS.workflow, id, input);
    } catch (err) {
      await index.remove(id);
      throw err;
    }
    this.deps.log.info({ workflowId: id, org: caller.org, jobs: spec.jobs.length, awaitingApprovalOn: approvalDatasetIds }, 'workflow submitted');
    return { id, status };
  }

  async get(caller: Caller, id: string): Promise<WorkflowView> {
    const { record, facts } = await this.visibleRun(caller, id);
    const view = viewOf(record, facts);
    await reconcile(this.deps.index, record, view, this.deps.now());
    return view;
  }

  /**
   * Newest first, from the run index: one range read of the caller's organization, then
   * for the rows shown (at most `limit`) the final view the index keeps, or for runs still
   * going their durable status, so the cost does not grow with the number of runs stored. The cursor is the position after the last row (its index
   * time and id), so paging holds steady while new runs arrive. With a status filter, a
   * row whose durable status has moved on since the index last heard is left out (the
   * page may then be short; the cursor still goes on).
   */
  async list(caller: Caller, query: { limit: number; cursor?: string; status?: WorkflowStatus }): Promise<Page<WorkflowView>> {
    const { index, runs } = this.deps;
    const cursors = listCursors(await this.deps.cursorKey());
    const after = query.cursor === undefined ? undefined : cursors.decode(caller, query.status, query.cursor);
    await ensureIndexed(index, runs, this.deps.log);
    const rows = await index.page(caller.org, {
      limit: query.limit + 1,
      ...(query.status !== undefined && { status: query.status }),
      ...(after !== undefined && { after }),
    });
    const shown = rows.slice(0, query.limit);
    const now = this.deps.now();
    const views = await Promise.all(
      shown.map(async (row) => {
        // A run whose orchestration ended is listed from its kept final view alone.
        const kept = finalViewOf(row);
        if (kept !== undefined) return kept;
        const record = await runs.get(row.id);
        const facts = record === undefined || record.name !== ORCHESTRATORS.workflow ? undefined : factsOf(record);
        // Not started yet (its submit is between index and start), or purged under us.
        if (record === undefined || facts === undefined || !visibleTo(facts, caller)) return undefined;
        const view = viewOf(record, facts);
        await reconcile(index, record, view, now, row);
        return view;
      }),
    );
    const items = views.filter((v): v is WorkflowView => v !== undefined && (query.status === undefined || v.status === query.status));
    const last = shown[shown.length - 1];
    return rows.length > query.limit && last !== undefined ? { items, nextCursor: cursors.encode(caller, query.status, last) } : { items };
  }

  async cancel(caller: Caller, id: string): Promise<void> {
    const { record, facts } = await this.visibleRun(caller, id);
    const view = viewOf(record, facts);
    if (isFinished(view.status))
      throw new LedgerflowError('conflict', `workflow ${id} has already finished as ${view.status}`, { data: { status: view.status } });
    await this.deps.runs.raise(id, WORKFLOW_EVENTS.cancel, { reason: `canceled by ${caller.user}@${caller.org}` });
    this.deps.log.info({ workflowId: id, by: caller }, 'workflow cancel requested');
  }

  /** Purges a finished run at once (retention.ts): its organization's members only; 409
   * while it runs or its cleanup has not ended. The ledger keeps its records. */
  async delete(caller: Caller, id: string): Promise<{ id: string } & PurgeCounts> {
    await this.visibleRun(caller, id);
    const counts = await purgeRun(this.retention(), id);
    this.deps.log.info({ workflowId: id, by: caller }, 'workflow run deleted on request');
    return { id, ...counts };
  }

  /** One retention pass (the purgeWorkflows timer): finished runs older than `retentionMs`. */
  async purgeExpired(retentionMs: number): Promise<{ purged: string[]; held: string[] }> {
    return purgeExpired(this.retention(), retentionMs);
  }

  private retention(): RetentionDeps {
    const { index, runs, compute, messages, log, now, ledger, platform } = this.deps;
    const resultsState = async (id: string) => (await ledger.as(platform).getWorkflow(id))?.results?.state;
    return { index, runs, compute, messages, log, now, resultsState };
  }

  /** A job's log, streamed where the backend can (see ByteSource); to whom the run's
   * outputs are readable (ResultsService.requireReadable). */
  async logs(caller: Caller, id: string, jobName: string): Promise<ByteSource> {
    const { facts } = await this.deps.results.requireReadable(caller, id);
    if (facts.spec !== undefined && !facts.spec.jobs.some((j) => j.name === jobName)) throw notFound(`job ${jobName}`);
    const log = await openJobLog(this.deps.runs, this.deps.compute, id, jobName);
    if (log === undefined) throw notFound(`logs of job ${jobName} (it has not started)`);
    return log;
  }

  /** The last `lines` lines of a job's log (see logTail), to whom may read the log. */
  async logTail(caller: Caller, id: string, jobName: string, lines: number): Promise<LogTail> {
    return logTail(await this.logs(caller, id, jobName), lines);
  }

  /** A regular file of the run's workspace; anything else (missing, a FIFO, a directory, a
   * link leaving the workspace) is the same 404, which names no host path. */
  async file(caller: Caller, id: string, path: string): Promise<ByteSource> {
    await this.deps.results.requireReadable(caller, id);
    const { compute } = this.deps;
    const source =
      compute.openWorkspaceFile !== undefined
        ? await compute.openWorkspaceFile(id, path)
        : await compute.readWorkspaceFile(id, path).then((b) => (b === undefined ? undefined : bufferSource(b)));
    if (source === undefined) throw notFound(`file ${path}`);
    return source;
  }

  private async visibleRun(caller: Caller, id: string): Promise<{ record: RunRecord; facts: RunFacts }> {
    const record = await this.deps.runs.get(id);
    const facts = record === undefined || record.name !== ORCHESTRATORS.workflow ? undefined : factsOf(record);
    if (record === undefined || facts === undefined || !visibleTo(facts, caller)) throw notFound(`workflow ${id}`);
    return { record, facts };
  }
}

/** Jobs asking for more memory than the backend allows, each with its spec path. */
function oversized(spec: WorkflowSpec, maxBytes: number): { path: string; message: string }[] {
  return spec.jobs.flatMap((job, i) =>
    job.resources.memory !== undefined && memoryBytes(job.resources.memory) > maxBytes
      ? [{ path: `jobs[${i}].resources.memory`, message: `must be at most ${maxBytes} bytes (LOCAL_JOB_MAX_MEMORY)` }]
      : [],
  );
}
