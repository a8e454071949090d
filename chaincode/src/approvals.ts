import type { Context } from 'fabric-contract-api';
import { approvalDecisionSchema, approvalQuerySchema, approvalRequestSchema } from './approvalInputs';
import { canonicalJson } from './canonical';
import { conflict, forbidden, notFound } from './errors';
import { sameIdentity, submitter } from './identity';
import { parseArg, workflowIdSchema } from './inputs';
import { APPROVAL_TYPE, approvalGrantKey, approvalKey } from './keys';
import { activeLease, audit, emit, liveDataset, parseJson, readJson, txTime, writeOwned } from './ledgerState';
import type { ApprovalGrant, ApprovalRecord } from './state/approvalRecord';
import type { StoredDataset } from './state/datasetRecord';
import type { Identity } from './state/identity';

/**
 * Owner consent. A lessee's run on a dataset of another organization whose policy requires
 * approval (the default, also for datasets recorded before the policy existed) needs that
 * owner's approval of exactly its spec hash and files hash, under the lease it runs on;
 * RecordWorkflowLaunched refuses it otherwise (requireApprovals). Decisions are taken by a
 * member of the owner organization, known from the client identity only.
 */

export function approvalRequired(dataset: StoredDataset, by: Identity): boolean {
  return dataset.policy.approval !== 'none' && dataset.owner.mspId !== by.mspId;
}

/** One request per mounted dataset that needs approval. Asking again with the same hashes
 * returns what is recorded (activities retry); a reusable approval that covers the request
 * approves it at once, recorded as such. */
export async function requestApprovals(ctx: Context, requestJson: string): Promise<string> {
  const by = submitter(ctx);
  const request = parseArg(approvalRequestSchema, requestJson, 'request', true);
  const now = txTime(ctx);
  const records: ApprovalRecord[] = [];
  const created: ApprovalRecord[] = [];
  for (const datasetId of request.datasetIds) {
    const dataset = await liveDataset(ctx.stub, datasetId);
    if (!approvalRequired(dataset, by)) continue;
    const lease = await activeLease(ctx, datasetId);
    if (lease === undefined || !sameIdentity(lease.holder, by)) throw forbidden(`dataset ${datasetId} is not leased by the caller`);
    const key = approvalKey(ctx.stub, request.workflowId, datasetId);
    const existing = await readJson<ApprovalRecord>(ctx.stub, key);
    if (existing !== undefined) {
      const same =
        sameIdentity(existing.requester, by) &&
        existing.specHash === request.specHash &&
        existing.filesHash === request.filesHash &&
        existing.lease.takenAt === lease.takenAt;
      if (!same) throw conflict(`workflow ${request.workflowId} already has an approval request on dataset ${datasetId}`);
      records.push(existing);
      continue;
    }
    const grant = await readJson<ApprovalGrant>(
      ctx.stub,
      approvalGrantKey(ctx.stub, {
        datasetId,
        holder: by,
        leaseTakenAt: lease.takenAt,
        specHash: request.specHash,
        filesHash: request.filesHash,
      }),
    );
    const record: ApprovalRecord = {
      workflowId: request.workflowId,
      datasetId,
      datasetName: dataset.name,
      owner: { org: dataset.owner.org, mspId: dataset.owner.mspId },
      requester: by,
      lease: { takenAt: lease.takenAt, expiresAt: lease.expiresAt },
      specHash: request.specHash,
      filesHash: request.filesHash,
      requestedAt: now,
      ...(grant === undefined
        ? { state: 'pending' as const }
        : { state: 'approved' as const, decidedAt: now, decidedBy: grant.grantedBy, reuse: true, reusedFrom: grant.workflowId }),
    };
    await writeOwned(ctx.stub, key, record, [dataset.owner.mspId]);
    await audit(ctx, datasetId, { action: 'approval-requested', by, value: record });
    records.push(record);
    created.push(record);
  }
  if (created.length > 0) emit(ctx, 'ApprovalsRequested', { workflowId: request.workflowId, approvals: created });
  return canonicalJson(records);
}

/** Approves or rejects every pending request of the workflow on datasets the caller's
 * organization owns; returns the ones decided. */
export async function decideApprovals(ctx: Context, workflowId: string, decisionJson: string): Promise<string> {
  const by = submitter(ctx);
  const id = parseArg(workflowIdSchema, workflowId, 'workflowId');
  const decision = parseArg(approvalDecisionSchema, decisionJson, 'decision', true);
  const all = await approvalsOf(ctx, id);
  if (all.length === 0) throw notFound(`an approval request of workflow ${id}`);
  const mine = all.filter((r) => r.owner.mspId === by.mspId);
  if (mine.length === 0) throw forbidden(`only the owner organization of a dataset may decide on workflow ${id}`);
  const pending = mine.filter((r) => r.state === 'pending');
  if (pending.length === 0) throw conflict(`the requests of workflow ${id} on the caller's datasets are already decided`);
  const now = txTime(ctx);
  const decided: ApprovalRecord[] = [];
  for (const request of pending) {
    const record: ApprovalRecord =
      decision.decision === 'approve'
        ? {
            ...request,
            state: 'approved',
            decidedAt: now,
            decidedBy: by,
            reuse: decision.reuse ?? false,
            ...(decision.comment === undefined ? {} : { comment: decision.comment }),
          }
        : { ...request, state: 'rejected', decidedAt: now, decidedBy: by, reason: decision.reason };
    await writeOwned(ctx.stub, approvalKey(ctx.stub, id, request.datasetId), record, [record.owner.mspId]);
    if (record.reuse === true) {
      const grant: ApprovalGrant = {
        datasetId: record.datasetId,
        holder: record.requester,
        leaseTakenAt: record.lease.takenAt,
        specHash: record.specHash,
        filesHash: record.filesHash,
        workflowId: id,
        grantedBy: by,
        grantedAt: now,
      };
      await writeOwned(ctx.stub, approvalGrantKey(ctx.stub, grant), grant, [by.mspId]);
    }
    await audit(ctx, record.datasetId, { action: record.state === 'approved' ? 'approved' : 'rejected', by, value: record });
    decided.push(record);
  }
  emit(ctx, 'ApprovalsDecided', { workflowId: id, approvals: decided });
  return canonicalJson(decided);
}

/** Every request of one workflow, in dataset id order. */
export async function readApprovals(ctx: Context, workflowId: string): Promise<string> {
  return canonicalJson(await approvalsOf(ctx, parseArg(workflowIdSchema, workflowId, 'workflowId')));
}

/** The requests on datasets the caller's organization owns, newest first. */
export async function listApprovals(ctx: Context, queryJson: string): Promise<string> {
  const by = submitter(ctx);
  const query = parseArg(approvalQuerySchema, queryJson, 'query', true);
  const items: ApprovalRecord[] = [];
  for await (const { value } of ctx.stub.getStateByPartialCompositeKey(APPROVAL_TYPE, [])) {
    const record = parseJson<ApprovalRecord>(value);
    if (record.owner.mspId === by.mspId && (query.state === undefined || record.state === query.state)) items.push(record);
  }
  items.sort((a, b) => compare(b.requestedAt, a.requestedAt) || compare(a.workflowId, b.workflowId) || compare(a.datasetId, b.datasetId));
  return canonicalJson(items);
}

/** The launch rule: every mounted dataset that requires approval has an approved request of
 * this workflow by this holder under this lease with these hashes, or a reusable approval
 * covering the same. The caller's lease on each dataset is checked before this runs. */
export async function requireApprovals(
  ctx: Context,
  by: Identity,
  launch: { workflowId: string; datasetIds: string[]; specHash: string; filesHash?: string | undefined },
): Promise<void> {
  for (const datasetId of launch.datasetIds) {
    const dataset = await liveDataset(ctx.stub, datasetId);
    if (!approvalRequired(dataset, by)) continue;
    const lease = await activeLease(ctx, datasetId);
    const refused = forbidden(`dataset ${datasetId} requires its owner's approval of this exact workflow (spec hash and files hash) under the caller's lease`);
    if (lease === undefined || launch.filesHash === undefined) throw refused;
    const covered = { datasetId, holder: by, leaseTakenAt: lease.takenAt, specHash: launch.specHash, filesHash: launch.filesHash };
    const record = await readJson<ApprovalRecord>(ctx.stub, approvalKey(ctx.stub, launch.workflowId, datasetId));
    const approved =
      record !== undefined &&
      record.state === 'approved' &&
      sameIdentity(record.requester, by) &&
      record.lease.takenAt === covered.leaseTakenAt &&
      record.specHash === covered.specHash &&
      record.filesHash === covered.filesHash;
    if (approved) continue;
    if ((await readJson<ApprovalGrant>(ctx.stub, approvalGrantKey(ctx.stub, covered))) === undefined) throw refused;
  }
}

async function approvalsOf(ctx: Context, workflowId: string): Promise<ApprovalRecord[]> {
  const records: ApprovalRecord[] = [];
  for await (const { value } of ctx.stub.getStateByPartialCompositeKey(APPROVAL_TYPE, [workflowId])) records.push(parseJson<ApprovalRecord>(value));
  return records;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
