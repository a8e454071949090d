import { createHash } from 'node:crypto';
import type { Context } from 'fabric-contract-api';
import { canonicalJson } from './canonical';
import { conflict, forbidden, notFound, validationFailed } from './errors';
import { submitter } from './identity';
import { parseArg, resultsDecisionSchema, workflowIdSchema } from './inputs';
import { workflowKey } from './keys';
import type { ChaincodeStub } from 'fabric-shim-api';
import { audit, emit, readJson, txTime, writeJson, writeOwned } from './ledgerState';
import type { StoredDataset } from './state/datasetRecord';
import type { Identity } from './state/identity';
import type { OutputManifest, ResultsReview, ResultsState, WorkflowResults } from './state/resultsRecord';
import type { WorkflowRecord } from './state/workflowRecord';

/**
 * Owner control of a run's outputs. At launch the record fixes who reviews (the owner
 * organizations of mounted datasets whose policy says `results: review`, the launcher's own
 * organization excepted, as for approvals) and the smallest `maxResultBytes`. At finish the
 * output manifest is recorded with its hash, and the results start `pending-review`,
 * `released` (nobody reviews) or `rejected` (over the size limit, or no manifest where one
 * was needed). Each reviewing organization then decides once, naming the manifest hash it
 * decided on; the decision is written to the workflow's own key, so the key's history holds
 * the outputs and every decision on them.
 */

export function reviewsResults(dataset: StoredDataset, by: Identity): boolean {
  return dataset.policy.results === 'review' && dataset.owner.mspId !== by.mspId;
}

/** The launch-time fields: reviewers in dataset order, and the smallest size limit. */
export function resultRules(datasets: StoredDataset[], by: Identity): Pick<WorkflowRecord, 'reviewers' | 'maxResultBytes'> {
  const reviewers = datasets.filter((d) => reviewsResults(d, by)).map((d) => ({ datasetId: d.id, org: d.owner.org, mspId: d.owner.mspId }));
  const limits = datasets.flatMap((d) => (d.policy.maxResultBytes === undefined ? [] : [d.policy.maxResultBytes]));
  return {
    ...(reviewers.length > 0 ? { reviewers } : {}),
    ...(limits.length > 0 ? { maxResultBytes: Math.min(...limits) } : {}),
  };
}

/** A run's record. When owners review its outputs, the key is bound to the endorsement of the
 * launcher's organization and of every reviewing one (ledgerState.writeOwned), so neither
 * the launcher nor other organizations can release results on the reviewers' behalf. */
export async function writeWorkflow(stub: ChaincodeStub, key: string, workflow: WorkflowRecord): Promise<void> {
  const reviewers = workflow.reviewers ?? [];
  if (reviewers.length === 0) await writeJson(stub, key, workflow);
  else await writeOwned(stub, key, workflow, [workflow.launchedBy.mspId, ...reviewers.map((r) => r.mspId)]);
}

export const outputsSha256 = (outputs: OutputManifest): string => createHash('sha256').update(canonicalJson(outputs), 'utf8').digest('hex');

export const outputBytes = (outputs: OutputManifest): number => outputs.files.reduce((n, f) => n + f.size, 0) + outputs.logs.reduce((n, l) => n + l.size, 0);

/** The finish-time fields. A run whose outputs exceed the limit cannot have succeeded. */
export function finishedResults(
  workflow: WorkflowRecord,
  status: WorkflowRecord['status'],
  outputs: OutputManifest | undefined,
): Pick<WorkflowRecord, 'outputs' | 'outputsSha256' | 'results'> {
  const reviews: ResultsReview[] = (workflow.reviewers ?? []).map((r) => ({ ...r, state: 'pending' }));
  const limit = workflow.maxResultBytes;
  const needed = reviews.length > 0 || limit !== undefined;
  if (outputs === undefined) {
    return { results: needed ? { state: 'rejected', reviews: [], reason: 'the outputs were not recorded at finish' } : { state: 'released', reviews: [] } };
  }
  const bytes = outputBytes(outputs);
  const recorded = { outputs, outputsSha256: outputsSha256(outputs) };
  if (limit !== undefined && bytes > limit) {
    if (status === 'Succeeded') throw validationFailed(`the outputs take ${bytes} bytes, more than maxResultBytes (${limit}): the run cannot have succeeded`);
    return { ...recorded, results: { state: 'rejected', reviews: [], reason: `the outputs take ${bytes} bytes, more than maxResultBytes (${limit})` } };
  }
  return { ...recorded, results: { state: reviews.length > 0 ? 'pending-review' : 'released', reviews } };
}

/** Releases or rejects the outputs for every pending review of the caller's organization. */
export async function decideResults(ctx: Context, workflowId: string, decisionJson: string): Promise<string> {
  const by = submitter(ctx);
  const id = parseArg(workflowIdSchema, workflowId, 'workflowId');
  const decision = parseArg(resultsDecisionSchema, decisionJson, 'decision', true);
  const key = workflowKey(ctx.stub, id);
  const workflow = await readJson<WorkflowRecord>(ctx.stub, key);
  if (workflow === undefined) throw notFound(`workflow ${id}`);
  if (!(workflow.reviewers ?? []).some((r) => r.mspId === by.mspId)) {
    throw forbidden(`only an organization reviewing the outputs of workflow ${id} (the owner of a dataset whose policy asks for review) may decide on them`);
  }
  if (workflow.status === 'Running' || workflow.results === undefined) throw conflict(`workflow ${id} has not finished; its outputs are decided on after`);
  const mine = workflow.results.reviews.filter((r) => r.mspId === by.mspId && r.state === 'pending');
  if (mine.length === 0) throw conflict(`the outputs of workflow ${id} are already decided (${workflow.results.state})`);
  if (decision.outputsSha256 !== workflow.outputsSha256) {
    throw conflict(`the outputs decided on (${decision.outputsSha256}) differ from those recorded at finish (${workflow.outputsSha256 ?? 'none'})`);
  }
  const now = txTime(ctx);
  const decided: ResultsReview = {
    ...mine[0]!,
    state: decision.decision === 'release' ? 'released' : 'rejected',
    decidedAt: now,
    decidedBy: by,
    outputsSha256: decision.outputsSha256,
    ...(decision.decision === 'reject' ? { reason: decision.reason } : {}),
  };
  const reviews = workflow.results.reviews.map((r) => (r.mspId === by.mspId && r.state === 'pending' ? { ...decided, datasetId: r.datasetId } : r));
  const results: WorkflowResults = { state: overallState(reviews), reviews };
  const updated: WorkflowRecord = { ...workflow, results };
  await writeWorkflow(ctx.stub, key, updated);
  for (const review of mine) {
    await audit(ctx, review.datasetId, { action: decision.decision === 'release' ? 'results-released' : 'results-rejected', by, value: updated });
  }
  emit(ctx, 'ResultsDecided', { workflowId: id, results, outputsSha256: workflow.outputsSha256 });
  return canonicalJson(updated);
}

/** The workflow's ledger record, for its requester and the owners of its datasets (any
 * member of the consortium can read world state; nothing in it is secret). */
export async function readWorkflow(ctx: Context, workflowId: string): Promise<string> {
  const id = parseArg(workflowIdSchema, workflowId, 'workflowId');
  const workflow = await readJson<WorkflowRecord>(ctx.stub, workflowKey(ctx.stub, id));
  if (workflow === undefined) throw notFound(`workflow ${id}`);
  return canonicalJson(workflow);
}

/** Any rejection rejects; all released releases; otherwise someone has still to decide. */
function overallState(reviews: ResultsReview[]): ResultsState {
  if (reviews.some((r) => r.state === 'rejected')) return 'rejected';
  return reviews.every((r) => r.state === 'released') ? 'released' : 'pending-review';
}
