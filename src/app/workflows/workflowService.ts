import { LedgerflowError, notFound } from '../../core/errors';
import type { Caller, LeaseRecord, Page, WorkflowStatus } from '../../core/model';
import { workflowHash } from '../../core/workflow/hash';
import { unleasedVolumes } from '../../core/workflow/leases';
import { isFinished, jobInstanceId, ORCHESTRATORS, WORKFLOW_EVENTS, type JobRunStatus, type RunTiming, type WorkflowInput } from '../../core/workflow/run';
import { datasetIdsOf, parseWorkflowSpec } from '../../core/workflow/spec';
import type { Logger } from '../../observability/logger';
import type { ComputeBackend } from '../../ports/compute';
import type { Ledger } from '../../ports/ledger';
import type { Submission } from '../../api/workflowRequests';
import type { RunControl, RunRecord } from './runControl';
import { factsOf, viewOf, visibleTo, type RunFacts, type WorkflowView } from './views';

export interface WorkflowServiceDeps {
  ledger: Ledger;
  compute: ComputeBackend;
  runs: RunControl;
  timing: RunTiming;
  newId(): string;
  now(): Date;
  log: Logger;
}

/**
 * The workflow API behind the HTTP routes: submit (parse, lease check, hash, workspace,
 * start), read, list, cancel, logs and result files. A run is visible only to members of
 * the submitter's organization; to anyone else it does not exist (404).
 */
export class WorkflowService {
  constructor(private readonly deps: WorkflowServiceDeps) {}

  async submit(caller: Caller, submission: Submission): Promise<{ id: string }> {
    const spec = parseWorkflowSpec(submission.source);
    const session = this.deps.ledger.as(caller);
    const leases = new Map<string, LeaseRecord | undefined>();
    for (const id of datasetIdsOf(spec)) leases.set(id, await session.getLease(id));
    const unleased = unleasedVolumes(spec, leases, caller, this.deps.now());
    if (unleased.length > 0) {
      throw new LedgerflowError('forbidden', 'the workflow mounts datasets the caller has not leased', { details: unleased });
    }
    const id = this.deps.newId();
    const input: WorkflowInput = {
      workflowId: id, caller, spec, specHash: workflowHash(spec, submission.files), options: submission.options, timing: this.deps.timing,
    };
    await this.deps.compute.prepareWorkspace(id, submission.files);
    await this.deps.runs.start(ORCHESTRATORS.workflow, id, input);
    this.deps.log.info({ workflowId: id, org: caller.org, jobs: spec.jobs.length }, 'workflow submitted');
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
    if (isFinished(view.status)) throw new LedgerflowError('conflict', `workflow ${id} has already finished as ${view.status}`, { data: { status: view.status } });
    await this.deps.runs.raise(id, WORKFLOW_EVENTS.cancel, { reason: `canceled by ${caller.user}@${caller.org}` });
    this.deps.log.info({ workflowId: id, by: caller }, 'workflow cancel requested');
  }

  async logs(caller: Caller, id: string, jobName: string): Promise<string> {
    const { facts } = await this.visibleRun(caller, id);
    if (facts.spec !== undefined && !facts.spec.jobs.some((j) => j.name === jobName)) throw notFound(`job ${jobName}`);
    const job = await this.deps.runs.get(jobInstanceId(id, jobName));
    const status = job?.customStatus as JobRunStatus | null | undefined;
    if (status?.handle === undefined) throw notFound(`logs of job ${jobName} (it has not started)`);
    return this.deps.compute.logs(status.handle);
  }

  async file(caller: Caller, id: string, path: string): Promise<Buffer> {
    await this.visibleRun(caller, id);
    const content = await this.deps.compute.readWorkspaceFile(id, path);
    if (content === undefined) throw notFound(`file ${path}`);
    return content;
  }

  private async visibleRun(caller: Caller, id: string): Promise<{ record: RunRecord; facts: RunFacts }> {
    const record = await this.deps.runs.get(id);
    const facts = record === undefined || record.name !== ORCHESTRATORS.workflow ? undefined : factsOf(record);
    if (record === undefined || facts === undefined || !visibleTo(facts, caller)) throw notFound(`workflow ${id}`);
    return { record, facts };
  }
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
