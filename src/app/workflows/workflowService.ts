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
import type { Submission } from '../../api/workflowRequests';
import { bufferSource, openJobLog } from './outputs';
import type { ResultsService } from './resultsService';
import type { RunControl, RunRecord } from './runControl';
import { factsOf, viewOf, visibleTo, type RunFacts, type WorkflowView } from './views';

export interface WorkflowServiceDeps {
  ledger: Ledger;
  compute: ComputeBackend;
  runs: RunControl;
  /** Who may read a run's outputs now. */
  results: ResultsService;
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

  async submit(caller: Caller, submission: Submission): Promise<{ id: string }> {
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
    const id = this.deps.newId();
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
    await this.deps.runs.start(ORCHESTRATORS.workflow, id, input);
    this.deps.log.info({ workflowId: id, org: caller.org, jobs: spec.jobs.length, awaitingApprovalOn: approvalDatasetIds }, 'workflow submitted');
    return { id };
  }

  async get(caller: Caller, id: string): Promise<WorkflowView> {
    const { record, facts } = await this.visibleRun(caller, id);
    return viewOf(record, facts);
  }

  /** Newest first; the cursor is the position after the last item shown (its creation
   * time and id), so paging holds steady while new runs arrive. */
  async list(caller: Caller, query: { limit: number; cursor?: string; status?: WorkflowStatus }): Promise<Page<WorkflowView>> {
    const views: WorkflowView[] = [];
    for (const record of await this.deps.runs.list()) {
      if (record.name !== ORCHESTRATORS.workflow) continue;
      // List answers carry no input; a run too new to have a status is read on its own.
      const full = factsOf(record) === undefined && record.runtimeStatus === 'Pending' ? await this.deps.runs.get(record.instanceId) : record;
      const facts = full === undefined ? undefined : factsOf(full);
      if (full === undefined || facts === undefined || !visibleTo(facts, caller)) continue;
      const view = viewOf(full, facts);
      if (query.status === undefined || view.status === query.status) views.push(view);
    }
    views.sort((a, b) => (a.createdAt === b.createdAt ? (a.id < b.id ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1));
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const rest = after === undefined ? views : views.filter((v) => v.createdAt < after.createdAt || (v.createdAt === after.createdAt && v.id < after.id));
    const items = rest.slice(0, query.limit);
    const last = items[items.length - 1];
    return rest.length > query.limit && last !== undefined ? { items, nextCursor: encodeCursor(last) } : { items };
  }

  async cancel(caller: Caller, id: string): Promise<void> {
    const { record, facts } = await this.visibleRun(caller, id);
    const view = viewOf(record, facts);
    if (isFinished(view.status))
      throw new LedgerflowError('conflict', `workflow ${id} has already finished as ${view.status}`, { data: { status: view.status } });
    await this.deps.runs.raise(id, WORKFLOW_EVENTS.cancel, { reason: `canceled by ${caller.user}@${caller.org}` });
    this.deps.log.info({ workflowId: id, by: caller }, 'workflow cancel requested');
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

function encodeCursor(view: WorkflowView): string {
  return Buffer.from(JSON.stringify([view.createdAt, view.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof createdAt === 'string' && typeof id === 'string') return { createdAt, id };
  } catch {
    // falls through to the error below
  }
  throw new LedgerflowError('validation_failed', 'invalid paging', { details: [{ path: 'cursor', message: 'is not a cursor from this listing' }] });
}
