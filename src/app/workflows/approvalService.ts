import { LedgerflowError, notFound } from '../../core/errors';
import type { ApprovalRecord, ApprovalState, Caller, Page } from '../../core/model';
import { fileDigest } from '../../core/workflow/hash';
import { approvalDecidedEvent, ORCHESTRATORS, type ApprovalDecided, type RunReview } from '../../core/workflow/run';
import type { Logger } from '../../observability/logger';
import type { ComputeBackend } from '../../ports/compute';
import type { ApprovalDecision, Ledger } from '../../ports/ledger';
import type { RunControl } from './runControl';
import { factsOf, viewOf } from './views';

/** Files larger than this are listed with their digest; their content is its own route. */
export const INLINE_FILE_BYTES = 1024 * 1024;

export interface ApprovalServiceDeps {
  ledger: Ledger;
  compute: ComputeBackend;
  runs: RunControl;
  log: Logger;
}

/** An approval request as GET /approvals lists it. */
export interface ApprovalView {
  workflowId: string;
  datasetId: string;
  datasetName: string;
  requester: Caller;
  specHash: string;
  filesHash: string;
  state: ApprovalState;
  requestedAt: string;
  decidedAt?: string;
  decidedBy?: Caller;
  reuse?: boolean;
  comment?: string;
  reason?: string;
  reusedFrom?: string;
}

/** What an owner reads before deciding: exactly what would run. */
export interface ApprovalReview {
  workflowId: string;
  requester: Caller;
  status: string;
  workflow: string;
  files: { path: string; size: number; sha256: string; content?: string }[];
  datasets: { id: string; name: string; owner: string; state: ApprovalState }[];
  specHash: string;
  filesHash: string;
}

/**
 * The owners' side of consent. The decisions themselves are ledger transactions by the
 * owner organization's user (the chaincode checks ownership from the certificate); after
 * one commits, the run waiting for it gets one event per decided dataset.
 *
 * Who sees what: a run's requests are visible to its submitter's organization and to the
 * organizations owning its datasets; to anyone else the run does not exist (404). Only an
 * owner organization decides (403 for the requester).
 */
export class ApprovalService {
  constructor(private readonly deps: ApprovalServiceDeps) {}

  async list(caller: Caller, query: { state?: ApprovalState; limit: number; cursor?: string }): Promise<Page<ApprovalView>> {
    const records = await this.deps.ledger.as(caller).listApprovals(query.state === undefined ? {} : { state: query.state });
    // Newest first (the ledger's order); the cursor is the position of the last item shown,
    // so paging holds steady while requests arrive or get decided.
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const rest = after === undefined ? records : records.filter((r) => comesAfter(r, after));
    const items = rest.slice(0, query.limit);
    const last = items[items.length - 1];
    const page = items.map(viewOfApproval);
    return rest.length > query.limit && last !== undefined ? { items: page, nextCursor: encodeCursor(last) } : { items: page };
  }

  async review(caller: Caller, workflowId: string): Promise<ApprovalReview> {
    const { run, approvals } = await this.visible(caller, workflowId);
    const files = await Promise.all(
      run.review.files.map(async (f) => {
        const content = f.size > INLINE_FILE_BYTES ? undefined : await this.content(workflowId, f);
        return content === undefined ? { ...f } : { ...f, content };
      }),
    );
    return {
      workflowId,
      requester: run.requester,
      status: run.status,
      workflow: run.review.workflow,
      files,
      datasets: approvals.map((a) => ({ id: a.datasetId, name: a.datasetName, owner: a.owner.org, state: a.state })),
      specHash: approvals[0]?.specHash ?? '',
      filesHash: run.filesHash,
    };
  }

  /** One code file of the run as submitted (checked against its digest). */
  async file(caller: Caller, workflowId: string, path: string): Promise<Buffer> {
    const { run } = await this.visible(caller, workflowId);
    const entry = run.review.files.find((f) => f.path === path);
    const content = entry === undefined ? undefined : await this.deps.compute.readWorkspaceFile(workflowId, path);
    if (entry === undefined || content === undefined || fileDigest(content) !== entry.sha256) throw notFound(`file ${path} of workflow ${workflowId}`);
    return content;
  }

  async decide(caller: Caller, workflowId: string, decision: ApprovalDecision): Promise<{ workflowId: string; items: ApprovalView[] }> {
    const { run, approvals } = await this.visible(caller, workflowId);
    const mine = approvals.filter((a) => a.owner.org === caller.org);
    if (mine.length === 0) throw new LedgerflowError('forbidden', `only an organization owning a dataset of workflow ${workflowId} may decide on it`);
    if (run.status !== 'AwaitingApproval' && run.status !== 'Pending') {
      throw new LedgerflowError('conflict', `workflow ${workflowId} is no longer waiting for approval (it is ${run.status})`, { data: { status: run.status } });
    }
    let decided: ApprovalRecord[];
    try {
      decided = await this.deps.ledger.as(caller).decideApprovals(workflowId, decision);
    } catch (err) {
      // Decided already: if the run never heard of it (the event was lost after the
      // ledger committed), tell it again, then report the conflict.
      if (err instanceof LedgerflowError && err.code === 'conflict')
        await this.notify(
          workflowId,
          mine.filter((a) => a.state !== 'pending'),
        );
      throw err;
    }
    await this.notify(workflowId, decided);
    this.deps.log.info({ workflowId, by: caller, decision: decision.decision, datasets: decided.map((d) => d.datasetId) }, 'approval decided');
    return { workflowId, items: decided.map(viewOfApproval) };
  }

  private async notify(workflowId: string, decided: ApprovalRecord[]): Promise<void> {
    for (const record of decided) {
      if (record.state === 'pending' || record.decidedBy === undefined) continue;
      const event: ApprovalDecided = {
        state: record.state,
        by: { user: record.decidedBy.user, org: record.decidedBy.org },
        ...(record.reason === undefined ? {} : { reason: record.reason }),
      };
      await this.deps.runs.raise(workflowId, approvalDecidedEvent(record.datasetId), event);
    }
  }

  private async content(workflowId: string, file: { path: string; sha256: string }): Promise<string | undefined> {
    const bytes = await this.deps.compute.readWorkspaceFile(workflowId, file.path);
    // A job may have rewritten the file since: what the owner reads must be what was hashed.
    return bytes === undefined || fileDigest(bytes) !== file.sha256 ? undefined : bytes.toString('utf8');
  }

  private async visible(caller: Caller, workflowId: string): Promise<{ run: RunFacts; approvals: ApprovalRecord[] }> {
    const record = await this.deps.runs.get(workflowId);
    const facts = record === undefined || record.name !== ORCHESTRATORS.workflow ? undefined : factsOf(record);
    const input = record?.input as { review?: RunReview; filesHash?: string } | null | undefined;
    if (record === undefined || facts === undefined || input?.review === undefined || input.filesHash === undefined) throw notFound(`workflow ${workflowId}`);
    // In the order the workflow mounts them (the ledger keeps dataset id order).
    const order = (a: ApprovalRecord) => facts.datasetIds.indexOf(a.datasetId);
    const approvals = (await this.deps.ledger.as(caller).workflowApprovals(workflowId)).sort((a, b) => order(a) - order(b));
    const requester = facts.owner.org === caller.org;
    if (!requester && !approvals.some((a) => a.owner.org === caller.org)) throw notFound(`workflow ${workflowId}`);
    return {
      run: { requester: facts.owner, status: viewOf(record, facts).status, review: input.review, filesHash: input.filesHash },
      approvals,
    };
  }
}

interface RunFacts {
  requester: Caller;
  status: string;
  review: RunReview;
  filesHash: string;
}

export function viewOfApproval(r: ApprovalRecord): ApprovalView {
  return {
    workflowId: r.workflowId,
    datasetId: r.datasetId,
    datasetName: r.datasetName,
    requester: { user: r.requester.user, org: r.requester.org },
    specHash: r.specHash,
    filesHash: r.filesHash,
    state: r.state,
    requestedAt: r.requestedAt,
    ...(r.decidedAt !== undefined && { decidedAt: r.decidedAt }),
    ...(r.decidedBy !== undefined && { decidedBy: { user: r.decidedBy.user, org: r.decidedBy.org } }),
    ...(r.reuse !== undefined && { reuse: r.reuse }),
    ...(r.comment !== undefined && { comment: r.comment }),
    ...(r.reason !== undefined && { reason: r.reason }),
    ...(r.reusedFrom !== undefined && { reusedFrom: r.reusedFrom }),
  };
}

type Position = [requestedAt: string, workflowId: string, datasetId: string];

const positionOf = (r: ApprovalRecord): Position => [r.requestedAt, r.workflowId, r.datasetId];
const encodeCursor = (r: ApprovalRecord): string => Buffer.from(JSON.stringify(positionOf(r))).toString('base64url');

function comesAfter(r: ApprovalRecord, [time, workflowId, datasetId]: Position): boolean {
  if (r.requestedAt !== time) return r.requestedAt < time;
  return r.workflowId !== workflowId ? r.workflowId > workflowId : r.datasetId > datasetId;
}

function decodeCursor(cursor: string): Position {
  try {
    const position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(position) && position.length === 3 && position.every((p) => typeof p === 'string')) return position as Position;
  } catch {
    // falls through to the error below
  }
  throw new LedgerflowError('validation_failed', 'invalid paging', { details: [{ path: 'cursor', message: 'is not a cursor from this listing' }] });
}
