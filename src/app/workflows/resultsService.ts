import { LedgerflowError, notFound } from '../../core/errors';
import type { Caller, OutputManifest, ResultsState, WorkflowLedgerRecord } from '../../core/model';
import { outputsSha256 } from '../../core/workflow/outputs';
import { isFinished, ORCHESTRATORS, type WorkflowInput } from '../../core/workflow/run';
import type { Logger } from '../../observability/logger';
import type { ComputeBackend } from '../../ports/compute';
import type { Ledger } from '../../ports/ledger';
import { currentOutputs } from './outputs';
import type { RunControl, RunRecord } from './runControl';
import { factsOf, viewOf, type RunFacts } from './views';

export interface ResultsServiceDeps {
  ledger: Ledger;
  compute: ComputeBackend;
  runs: RunControl;
  log: Logger;
}

/** GET /workflows/{id}/results. */
export interface ResultsView {
  state: ResultsState;
  files: OutputManifest['files'];
  logs: OutputManifest['logs'];
  reviews: { datasetId: string; org: string; state: 'pending' | 'released' | 'rejected'; decidedAt?: string; decidedBy?: Caller; reason?: string }[];
  /** sha256 of the manifest as the ledger recorded it: what a decision names. */
  outputsSha256?: string;
  /** Why the outputs are withheld without a review (the size limit). */
  reason?: string;
}

interface Access {
  record: RunRecord;
  facts: RunFacts;
  ledger: WorkflowLedgerRecord | undefined;
  requester: boolean;
  reviewer: boolean;
}

/**
 * The owners' control of a run's outputs. The ledger's workflow record is the truth: it
 * names the reviewing organizations (fixed at launch), the manifest and its hash (recorded
 * at finish) and each decision (chaincode/src/results.ts, which also decides who may
 * decide). A run is visible here to its requester's organization and to the reviewing
 * organizations; to anyone else it does not exist (404).
 *
 * Who reads outputs (files and logs): the reviewing organizations, until the outputs are
 * rejected; the requester, once they are released, and from the start when nothing
 * withholds them. While withheld the requester gets 403 `results_pending_review`, during
 * the run too (a job's output must not leak before its end either).
 */
export class ResultsService {
  constructor(private readonly deps: ResultsServiceDeps) {}

  /** Throws unless the caller may read the run's outputs now. */
  async requireReadable(caller: Caller, id: string): Promise<Access> {
    const access = await this.access(caller, id);
    const results = access.ledger?.results;
    if (results?.state === 'rejected') {
      throw new LedgerflowError('forbidden', `the outputs of workflow ${id} were rejected (${rejection(access.ledger!)}) and are not served`);
    }
    if (access.reviewer || results?.state === 'released') return access;
    const withheld = results?.state === 'pending-review' || withheldBeforeFinish(access);
    if (withheld) {
      throw new LedgerflowError(
        'results_pending_review',
        results === undefined
          ? `the outputs of workflow ${id} are withheld until it ends and its datasets' owners have released them`
          : `the outputs of workflow ${id} await the review of ${pendingOrgs(access.ledger!).join(', ')}`,
      );
    }
    return access;
  }

  async results(caller: Caller, id: string): Promise<ResultsView> {
    const access = await this.access(caller, id);
    return viewOfResults(id, access);
  }

  async decide(caller: Caller, id: string, decision: { decision: 'release' } | { decision: 'reject'; reason: string }): Promise<ResultsView> {
    const access = await this.access(caller, id, { forDecision: true });
    if (access.ledger?.results === undefined) throw new LedgerflowError('conflict', `workflow ${id} has not finished; its outputs are decided on after`);
    const recorded = access.ledger?.outputsSha256;
    const session = this.deps.ledger.as(caller);
    let updated: WorkflowLedgerRecord;
    try {
      if (decision.decision === 'release') {
        // What is released must be what the run left: the outputs are hashed again here and
        // the chaincode refuses the release if they differ from the finish's manifest.
        const now = access.facts.spec === undefined ? undefined : await this.outputsNow(id, access);
        updated = await session.decideResults(id, { decision: 'release', outputsSha256: now === undefined ? (recorded ?? '') : outputsSha256(now) });
      } else {
        updated = await session.decideResults(id, { decision: 'reject', outputsSha256: recorded ?? '', reason: decision.reason });
      }
    } catch (err) {
      // Rejected already: if its outputs outlived the decision (a crash after the commit),
      // delete them now, then report the conflict.
      if (err instanceof LedgerflowError && err.code === 'conflict' && access.ledger?.results?.state === 'rejected') await this.deleteOutputs(id);
      throw err;
    }
    if (updated.results?.state === 'rejected') await this.deleteOutputs(id);
    this.deps.log.info({ workflowId: id, by: caller, decision: decision.decision, state: updated.results?.state }, 'results decided');
    return viewOfResults(id, { ...access, ledger: updated });
  }

  private async outputsNow(id: string, access: Access): Promise<OutputManifest> {
    const input = access.record.input as Partial<WorkflowInput> | null;
    return currentOutputs(
      this.deps.runs,
      this.deps.compute,
      id,
      input?.review?.files ?? [],
      access.facts.spec!.jobs.map((j) => j.name),
    );
  }

  private async deleteOutputs(id: string): Promise<void> {
    await this.deps.compute.deleteOutputs?.(id);
    this.deps.log.info({ workflowId: id }, 'rejected outputs deleted');
  }

  /** The run with the caller's standing. A decision is left to the chaincode to refuse
   * (403 for the requester and any other organization, 409 when decided), so only a run
   * that does not exist at all is a 404 there. */
  private async access(caller: Caller, id: string, options: { forDecision?: boolean } = {}): Promise<Access> {
    const record = await this.deps.runs.get(id);
    const facts = record === undefined || record.name !== ORCHESTRATORS.workflow ? undefined : factsOf(record);
    if (record === undefined || facts === undefined) throw notFound(`workflow ${id}`);
    const ledger = facts.datasetIds.length === 0 ? undefined : await this.deps.ledger.as(caller).getWorkflow(id);
    const requester = facts.owner.org === caller.org;
    const reviewer = (ledger?.reviewers ?? []).some((r) => r.org === caller.org);
    if (!requester && !reviewer && options.forDecision !== true) throw notFound(`workflow ${id}`);
    if (options.forDecision === true && !reviewer) {
      throw new LedgerflowError('forbidden', `only an organization reviewing the outputs of workflow ${id} may decide on them`);
    }
    return { record, facts, ledger, requester, reviewer };
  }
}

function withheldBeforeFinish(access: Access): boolean {
  if (access.ledger !== undefined) return (access.ledger.reviewers ?? []).length > 0 || access.ledger.maxResultBytes !== undefined;
  return (access.record.input as Partial<WorkflowInput> | null)?.resultsWithheld === true;
}

const pendingOrgs = (record: WorkflowLedgerRecord): string[] => [
  ...new Set((record.results?.reviews ?? []).filter((r) => r.state === 'pending').map((r) => r.org)),
];

function rejection(record: WorkflowLedgerRecord): string {
  const results = record.results!;
  if (results.reason !== undefined) return results.reason;
  const by = results.reviews.find((r) => r.state === 'rejected');
  return by === undefined ? 'rejected' : `by ${by.decidedBy?.user ?? '?'}@${by.org}${by.reason === undefined ? '' : `: ${by.reason}`}`;
}

function viewOfResults(id: string, access: Access): ResultsView {
  const { ledger } = access;
  if (ledger === undefined) throw notFound(`results of workflow ${id} (the run mounted no dataset or never launched, so nothing was recorded on the ledger)`);
  if (ledger.results === undefined) {
    const status = viewOf(access.record, access.facts).status;
    throw new LedgerflowError('conflict', `workflow ${id} has not finished (${status}); its outputs are recorded when it ends`, {
      data: { status: isFinished(status) ? 'finishing' : status },
    });
  }
  return {
    state: ledger.results.state,
    files: ledger.outputs?.files ?? [],
    logs: ledger.outputs?.logs ?? [],
    reviews: ledger.results.reviews.map((r) => ({
      datasetId: r.datasetId,
      org: r.org,
      state: r.state,
      ...(r.decidedAt !== undefined && { decidedAt: r.decidedAt }),
      ...(r.decidedBy !== undefined && { decidedBy: { user: r.decidedBy.user, org: r.decidedBy.org } }),
      ...(r.reason !== undefined && { reason: r.reason }),
    })),
    ...(ledger.outputsSha256 !== undefined && { outputsSha256: ledger.outputsSha256 }),
    ...(ledger.results.reason !== undefined && { reason: ledger.results.reason }),
  };
}
