import { Context, Contract, Info, Returns, Transaction } from 'fabric-contract-api';
import { decideApprovals, listApprovals, readApprovals, requestApprovals, requireApprovals } from './approvals';
import { canonicalJson } from './canonical';
import { checkProposalTime, maxClockSkewSeconds, proposalMillis } from './clock';
import { ChaincodeError, conflict, forbidden, notFound, validationFailed } from './errors';
import { sameIdentity, submitter } from './identity';
import {
  datasetContentSchema,
  datasetIdSchema,
  datasetPatchSchema,
  datasetQuerySchema,
  ID_PATTERN,
  newDatasetSchema,
  parseArg,
  ttlSecondsSchema,
  workflowFinishSchema,
  workflowIdSchema,
  workflowLaunchSchema,
} from './inputs';
import { activeLease, audit, emit, isActive, liveDataset, parseJson, readJson, timestampIso, txTime, writeJson, writeOwned } from './ledgerState';
import { decideResults, finishedResults, outputsSha256, readWorkflow, resultRules, writeWorkflow } from './results';
import { requirePlatform } from './roles';
import { workflowTrail } from './trail';
import { auditKey, DATASET_PREFIX, DATASET_RANGE_END, datasetKey, LEASE_TYPE, leaseKey, workflowKey } from './keys';
import type { DatasetRecord, StoredDataset } from './state/datasetRecord';
import type { AuditEntry, HistoryEntry } from './state/historyEntry';
import type { Identity } from './state/identity';
import type { LeaseRecord } from './state/leaseRecord';
import type { Page } from './state/page';
import type { WorkflowRecord } from './state/workflowRecord';

/**
 * Datasets, their leases and the workflows that used them.
 *
 * Rules every transaction keeps, so all endorsers agree byte for byte:
 * - identity only from `ctx.clientIdentity` (owner, holder, launcher);
 * - time only from the transaction timestamp, and only within the endorser's clock skew and
 *   never before the last committed change of a dataset the transaction changes (clock.ts);
 * - state, results and event payloads as canonical JSON (sorted keys);
 * - each state change writes the dataset's audit key (a blind write, so it adds no MVCC
 *   conflicts) and sets one chaincode event named after the action;
 * - a dataset's record (with its policy), its approvals and a reviewed run's results are
 *   bound to their owners' endorsement (key-level endorsement, ledgerState.writeOwned).
 */
@Info({ title: 'ledgerflow', description: 'Datasets, leases and workflow records of a ledgerflow consortium' })
export class LedgerflowContract extends Contract {
  constructor() {
    super('ledgerflow');
  }

  /** The skew guard, for every transaction of the contract (reads too: a query dated next
   * year would report leases as expired). */
  override async beforeTransaction(ctx: Context): Promise<void> {
    checkProposalTime(proposalMillis(ctx), Date.now(), maxClockSkewSeconds());
  }

  override async unknownTransaction(ctx: Context): Promise<void> {
    throw validationFailed(`unknown transaction ${ctx.stub.getFunctionAndParameters().fcn}`);
  }

  @Transaction()
  @Returns('string')
  async RegisterDataset(ctx: Context, newDatasetJson: string): Promise<string> {
    const by = submitter(ctx);
    const input = parseArg(newDatasetSchema, newDatasetJson, 'dataset', true);
    if ((await readJson(ctx.stub, datasetKey(input.id))) !== undefined) {
      throw conflict(`dataset ${input.id} already exists`);
    }
    const now = txTime(ctx);
    const dataset: StoredDataset = { ...input, owner: by, version: 1, createdAt: now, updatedAt: now };
    await writeOwned(ctx.stub, datasetKey(input.id), dataset, [by.mspId]);
    await audit(ctx, input.id, { action: 'registered', by, value: dataset });
    emit(ctx, 'DatasetRegistered', dataset);
    return canonicalJson(dataset);
  }

  @Transaction()
  @Returns('string')
  async UpdateDataset(ctx: Context, id: string, patchJson: string): Promise<string> {
    const by = submitter(ctx);
    const datasetId = parseArg(datasetIdSchema, id, 'id');
    const patch = parseArg(datasetPatchSchema, patchJson, 'patch', true);
    const current = await liveDataset(ctx.stub, datasetId);
    requireOwner(by, current, 'update');
    const updated: StoredDataset = { ...current, ...definedFields(patch), updatedAt: txTime(ctx) };
    await writeOwned(ctx.stub, datasetKey(datasetId), updated, [updated.owner.mspId]);
    await audit(ctx, datasetId, { action: 'updated', by, value: updated });
    emit(ctx, 'DatasetUpdated', updated);
    return canonicalJson(withLease(updated, await activeLease(ctx, datasetId)));
  }

  /** A new content version, by the owner organization only (from the submitter's identity).
   * The version must be the one after the current: of two racing pushes one is refused. A
   * lease in force is unaffected; runs record the version they launched on. */
  @Transaction()
  @Returns('string')
  async UpdateDatasetContent(ctx: Context, id: string, contentJson: string): Promise<string> {
    const by = submitter(ctx);
    const datasetId = parseArg(datasetIdSchema, id, 'id');
    const content = parseArg(datasetContentSchema, contentJson, 'content', true);
    const current = await liveDataset(ctx.stub, datasetId);
    requireOwner(by, current, 'update the content of');
    const next = versionOf(current) + 1;
    if (content.version !== next) {
      throw conflict(`dataset ${datasetId} is at version ${versionOf(current)}; the next version is ${next}`);
    }
    const updated: StoredDataset = { ...current, version: next, contentHash: content.contentHash, updatedAt: txTime(ctx) };
    await writeOwned(ctx.stub, datasetKey(datasetId), updated, [updated.owner.mspId]);
    await audit(ctx, datasetId, { action: 'dataset-updated', by, value: updated });
    emit(ctx, 'DatasetContentUpdated', { datasetId, version: next, contentHash: content.contentHash, owner: current.owner });
    return canonicalJson(withLease(updated, await activeLease(ctx, datasetId)));
  }

  /** Tombstones the dataset: the id stays taken, the sealed location is cleared, and a
   * lease in force ends with it (the owner's decision outranks the lessee's; the ended
   * lease is kept in the audit entry and the event). */
  @Transaction()
  @Returns('string')
  async DeleteDataset(ctx: Context, id: string): Promise<string> {
    const by = submitter(ctx);
    const datasetId = parseArg(datasetIdSchema, id, 'id');
    const current = await liveDataset(ctx.stub, datasetId);
    requireOwner(by, current, 'delete');
    const now = txTime(ctx);
    const tombstone: StoredDataset = { ...current, sealedLocation: '', updatedAt: now, deletedAt: now };
    await writeOwned(ctx.stub, datasetKey(datasetId), tombstone, [tombstone.owner.mspId]);
    const lease = await readJson<LeaseRecord>(ctx.stub, leaseKey(ctx.stub, datasetId));
    if (lease !== undefined) await ctx.stub.deleteState(leaseKey(ctx.stub, datasetId));
    const endedLease = lease !== undefined && isActive(lease, now) ? lease : undefined;
    await audit(ctx, datasetId, { action: 'deleted', by, value: tombstone, ...(endedLease ? { endedLease } : {}) });
    emit(ctx, 'DatasetDeleted', { dataset: tombstone, ...(endedLease ? { endedLease } : {}) });
    return canonicalJson(tombstone);
  }

  /** The dataset with its lease if one is in force at the transaction time; a deleted
   * dataset is returned as its tombstone. */
  @Transaction(false)
  @Returns('string')
  async ReadDataset(ctx: Context, id: string): Promise<string> {
    const datasetId = parseArg(datasetIdSchema, id, 'id');
    const dataset = await readJson<StoredDataset>(ctx.stub, datasetKey(datasetId));
    if (dataset === undefined) throw notFound(`dataset ${datasetId}`);
    if (dataset.deletedAt !== undefined) return canonicalJson(dataset);
    return canonicalJson(withLease(dataset, await activeLease(ctx, datasetId)));
  }

  /** Pages through datasets in id order. The cursor is the last key returned, so pages stay
   * stable while datasets are added or removed elsewhere in the range. */
  @Transaction(false)
  @Returns('string')
  async ListDatasets(ctx: Context, queryJson: string): Promise<string> {
    const query = parseArg(datasetQuerySchema, queryJson, 'query', true);
    const start = query.cursor === undefined ? DATASET_PREFIX : datasetKey(decodeCursor(query.cursor)) + '\u0000';
    const items: DatasetRecord[] = [];
    let nextCursor: string | undefined;
    for await (const { value } of ctx.stub.getStateByRange(start, DATASET_RANGE_END)) {
      const dataset = parseJson<StoredDataset>(value);
      if (dataset.deletedAt !== undefined && query.includeDeleted !== true) continue;
      if (query.owner !== undefined && dataset.owner.org !== query.owner) continue;
      const lease = dataset.deletedAt === undefined ? await activeLease(ctx, dataset.id) : undefined;
      if (query.state === 'leased' && lease === undefined) continue;
      if (query.state === 'free' && lease !== undefined) continue;
      if (items.length === query.pageSize) {
        // one more match exists: the page is full and is not the last
        nextCursor = encodeCursor(items[items.length - 1].id);
        break;
      }
      items.push(withLease(dataset, lease));
    }
    const page: Page<DatasetRecord> = nextCursor === undefined ? { items } : { items, nextCursor };
    return canonicalJson(page);
  }

  /** Takes the dataset's one lease key when it is free or expired at the transaction time.
   * The key is read and written in this transaction, so of two racing takes only one can
   * pass MVCC validation. */
  @Transaction()
  @Returns('string')
  async TakeLease(ctx: Context, id: string, ttlSeconds: string): Promise<string> {
    const by = submitter(ctx);
    const datasetId = parseArg(datasetIdSchema, id, 'id');
    const requested = parseArg(ttlSecondsSchema, ttlSeconds ?? '', 'ttlSeconds');
    const dataset = await liveDataset(ctx.stub, datasetId);
    const now = txTime(ctx);
    const current = await readJson<LeaseRecord>(ctx.stub, leaseKey(ctx.stub, datasetId));
    if (current !== undefined && isActive(current, now)) {
      throw new ChaincodeError('lease_held', `dataset ${datasetId} is leased by ${current.holder.user}@${current.holder.org} until ${current.expiresAt}`, {
        holder: current.holder,
        expiresAt: current.expiresAt,
      });
    }
    const ttl = requested === 0 ? dataset.policy.leaseTtlSeconds : requested;
    if (ttl > dataset.policy.maxLeaseTtlSeconds) {
      throw validationFailed(`ttlSeconds must be at most ${dataset.policy.maxLeaseTtlSeconds}`, {
        maxLeaseTtlSeconds: dataset.policy.maxLeaseTtlSeconds,
      });
    }
    const lease: LeaseRecord = { datasetId, holder: by, takenAt: now, expiresAt: addSeconds(now, ttl) };
    await writeJson(ctx.stub, leaseKey(ctx.stub, datasetId), lease);
    await audit(ctx, datasetId, { action: 'leased', by, value: lease });
    emit(ctx, 'LeaseTaken', lease);
    return canonicalJson(lease);
  }

  /** The holder (same MSP, same user) or any member of the owner's organization; the event
   * names who released it and as what (`releasedAs`: holder or owner). */
  @Transaction()
  @Returns('string')
  async ReleaseLease(ctx: Context, id: string): Promise<string> {
    const by = submitter(ctx);
    const datasetId = parseArg(datasetIdSchema, id, 'id');
    const dataset = await liveDataset(ctx.stub, datasetId);
    const lease = await readJson<LeaseRecord>(ctx.stub, leaseKey(ctx.stub, datasetId));
    if (lease === undefined || !isActive(lease, txTime(ctx))) throw notFound(`a lease on dataset ${datasetId}`);
    if (!sameIdentity(lease.holder, by) && by.mspId !== dataset.owner.mspId) {
      throw forbidden('only the lease holder or the dataset owner may release the lease');
    }
    await ctx.stub.deleteState(leaseKey(ctx.stub, datasetId));
    await audit(ctx, datasetId, { action: 'released', by, value: lease });
    // Who ended it travels with the event: a run stopped by it says whether its owner
    // revoked the lease or its holder gave it up.
    emit(ctx, 'LeaseReleased', { ...lease, releasedBy: by, releasedAs: sameIdentity(lease.holder, by) ? 'holder' : 'owner' });
    return '';
  }

  /** The lease in force at the transaction time, or '' when there is none. */
  @Transaction(false)
  @Returns('string')
  async ReadLease(ctx: Context, id: string): Promise<string> {
    const datasetId = parseArg(datasetIdSchema, id, 'id');
    const lease = await activeLease(ctx, datasetId);
    return lease === undefined ? '' : canonicalJson(lease);
  }

  /** Removes every lease expired at the transaction time; the platform's alone. Fabric
   * keeps one event per transaction, so one `LeasesExpired` event lists them all; each
   * removal also gets its own audit entry in its dataset's history. */
  @Transaction()
  @Returns('string')
  async ExpireLeases(ctx: Context): Promise<string> {
    const by = submitter(ctx);
    requirePlatform(ctx, 'expire leases');
    const now = txTime(ctx);
    const expired: LeaseRecord[] = [];
    for await (const { key, value } of ctx.stub.getStateByPartialCompositeKey(LEASE_TYPE, [])) {
      const lease = parseJson<LeaseRecord>(value);
      if (isActive(lease, now)) continue;
      await ctx.stub.deleteState(key);
      expired.push(lease);
    }
    for (const lease of expired) await audit(ctx, lease.datasetId, { action: 'expired', by, value: lease });
    if (expired.length > 0) emit(ctx, 'LeasesExpired', { leases: expired });
    return canonicalJson(expired);
  }

  /** The caller must hold a current lease of every dataset the workflow mounts, and have the
   * owners' approval where a dataset requires it (approvals.ts). The record's life is
   * launched -> finished -> cleaned up, each once: the same launch again returns the stored
   * record (activities retry), a different one is a conflict. */
  @Transaction()
  @Returns('string')
  async RecordWorkflowLaunched(ctx: Context, launchJson: string): Promise<string> {
    const by = submitter(ctx);
    const launch = parseArg(workflowLaunchSchema, launchJson, 'launch', true);
    const key = workflowKey(ctx.stub, launch.workflowId);
    const recorded = await readJson<WorkflowRecord>(ctx.stub, key);
    if (recorded !== undefined) return sameLaunch(recorded, launch, by);
    const datasets: StoredDataset[] = [];
    for (const datasetId of launch.datasetIds) {
      datasets.push(await liveDataset(ctx.stub, datasetId));
      const lease = await activeLease(ctx, datasetId);
      if (lease === undefined || !sameIdentity(lease.holder, by)) {
        throw forbidden(`dataset ${datasetId} is not leased by the caller`);
      }
    }
    await requireApprovals(ctx, by, launch);
    // Which content the run reads is the ledger's to say, not the launcher's.
    const datasetVersions = datasets.map((d) => ({
      datasetId: d.id,
      version: versionOf(d),
      ...(d.contentHash === undefined ? {} : { contentHash: d.contentHash }),
    }));
    const workflow: WorkflowRecord = {
      ...launch,
      ...resultRules(datasets, by),
      datasetVersions,
      launchedBy: by,
      launchedAt: txTime(ctx),
      status: 'Running',
    };
    await writeWorkflow(ctx.stub, key, workflow);
    for (const datasetId of launch.datasetIds) {
      await audit(ctx, datasetId, { action: 'workflow-launched', by, value: workflow });
    }
    emit(ctx, 'WorkflowLaunched', workflow);
    return canonicalJson(workflow);
  }

  /** Any member of the launcher's organization. Recording the same outcome again is a
   * no-op (activities retry); recording a different one is a conflict. The outputs are
   * recorded with it, and what happens to them (results.ts). */
  @Transaction()
  @Returns('string')
  async RecordWorkflowFinished(ctx: Context, finishJson: string): Promise<string> {
    const by = submitter(ctx);
    const finish = parseArg(workflowFinishSchema, finishJson, 'finish', true);
    const workflow = await launcherWorkflow(ctx, by, finish.workflowId);
    if (workflow.status !== 'Running') {
      const same =
        workflow.status === finish.status &&
        canonicalJson(workflow.jobs) === canonicalJson(finish.jobs) &&
        workflow.outputsSha256 === (finish.outputs === undefined ? undefined : outputsSha256(finish.outputs));
      if (same) return canonicalJson(workflow);
      throw conflict(`workflow ${finish.workflowId} already finished as ${workflow.status}`);
    }
    const finished: WorkflowRecord = {
      ...workflow,
      status: finish.status,
      jobs: finish.jobs,
      finishedAt: txTime(ctx),
      ...finishedResults(workflow, finish.status, finish.outputs),
    };
    await writeWorkflow(ctx.stub, workflowKey(ctx.stub, finish.workflowId), finished);
    for (const datasetId of finished.datasetIds) {
      await audit(ctx, datasetId, { action: 'workflow-finished', by, value: finished });
    }
    emit(ctx, 'WorkflowFinished', finished);
    return canonicalJson(finished);
  }

  /** Any member of the launcher's organization, once the workflow finished; again after
   * cleanup is a no-op. */
  @Transaction()
  @Returns('string')
  async RecordWorkflowCleanedUp(ctx: Context, workflowId: string): Promise<string> {
    const by = submitter(ctx);
    const id = parseArg(workflowIdSchema, workflowId, 'workflowId');
    const workflow = await launcherWorkflow(ctx, by, id);
    if (workflow.cleanedUpAt !== undefined) return canonicalJson(workflow);
    if (workflow.status === 'Running') throw conflict(`workflow ${id} has not finished; it is cleaned up after its finish is recorded`);
    const cleaned: WorkflowRecord = { ...workflow, cleanedUpAt: txTime(ctx) };
    await writeWorkflow(ctx.stub, workflowKey(ctx.stub, id), cleaned);
    for (const datasetId of cleaned.datasetIds) {
      await audit(ctx, datasetId, { action: 'workflow-cleaned-up', by, value: cleaned });
    }
    emit(ctx, 'WorkflowCleanedUp', cleaned);
    return canonicalJson(cleaned);
  }

  // ---- owner consent: the rules live in approvals.ts

  @Transaction()
  @Returns('string')
  async RequestApprovals(ctx: Context, requestJson: string): Promise<string> {
    return requestApprovals(ctx, requestJson);
  }

  @Transaction()
  @Returns('string')
  async DecideApprovals(ctx: Context, workflowId: string, decisionJson: string): Promise<string> {
    return decideApprovals(ctx, workflowId, decisionJson);
  }

  @Transaction(false)
  @Returns('string')
  async ReadApprovals(ctx: Context, workflowId: string): Promise<string> {
    return readApprovals(ctx, workflowId);
  }

  @Transaction(false)
  @Returns('string')
  async ListApprovals(ctx: Context, queryJson: string): Promise<string> {
    return listApprovals(ctx, queryJson);
  }

  // ---- owner control of outputs: the rules live in results.ts

  @Transaction()
  @Returns('string')
  async DecideResults(ctx: Context, workflowId: string, decisionJson: string): Promise<string> {
    return decideResults(ctx, workflowId, decisionJson);
  }

  @Transaction(false)
  @Returns('string')
  async ReadWorkflow(ctx: Context, workflowId: string): Promise<string> {
    return readWorkflow(ctx, workflowId);
  }

  /** Every committed write that concerns one run (trail.ts), for its receipt. */
  @Transaction(false)
  @Returns('string')
  async WorkflowTrail(ctx: Context, workflowId: string): Promise<string> {
    return workflowTrail(ctx, workflowId);
  }

  /** Everything that happened to the dataset, oldest first: one history query over its
   * audit key, which every transaction touching the dataset, its lease or a workflow
   * using it writes. */
  @Transaction(false)
  @Returns('string')
  async DatasetHistory(ctx: Context, id: string): Promise<string> {
    const datasetId = parseArg(datasetIdSchema, id, 'id');
    if ((await readJson(ctx.stub, datasetKey(datasetId))) === undefined) throw notFound(`dataset ${datasetId}`);
    const entries: HistoryEntry[] = [];
    for await (const mod of ctx.stub.getHistoryForKey(auditKey(ctx.stub, datasetId))) {
      if (mod.isDelete) continue;
      const entry = parseJson<AuditEntry>(mod.value);
      entries.push({ txId: mod.txId, timestamp: timestampIso(mod.timestamp), ...entry });
    }
    // Fabric 2.x returns key history newest first.
    entries.reverse();
    return canonicalJson(entries);
  }
}

// ---- rule helpers (module functions, so the contract's metadata lists only transactions)

async function launcherWorkflow(ctx: Context, by: Identity, workflowId: string): Promise<WorkflowRecord> {
  const workflow = await readJson<WorkflowRecord>(ctx.stub, workflowKey(ctx.stub, workflowId));
  if (workflow === undefined) throw notFound(`workflow ${workflowId}`);
  if (workflow.launchedBy.mspId !== by.mspId) throw forbidden(`workflow ${workflowId} was launched by another organization`);
  return workflow;
}

/** A repeated launch record: the stored one when it is the same launch by the same caller. */
function sameLaunch(recorded: WorkflowRecord, launch: { workflowId: string; datasetIds: string[]; specHash: string }, by: Identity): string {
  const same =
    sameIdentity(recorded.launchedBy, by) && recorded.specHash === launch.specHash && canonicalJson(recorded.datasetIds) === canonicalJson(launch.datasetIds);
  if (!same) throw conflict(`workflow ${launch.workflowId} is already recorded with another launch`);
  return canonicalJson(recorded);
}

function requireOwner(by: Identity, dataset: StoredDataset, action: string): void {
  if (by.mspId !== dataset.owner.mspId) throw forbidden(`only the owner organization may ${action} dataset ${dataset.id}`);
}

/** Datasets registered before versions are at version 1. */
const versionOf = (dataset: StoredDataset): number => dataset.version ?? 1;

function withLease(dataset: StoredDataset, lease: LeaseRecord | undefined): DatasetRecord {
  return lease === undefined ? dataset : { ...dataset, lease };
}

function definedFields<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const addSeconds = (iso: string, seconds: number): string => new Date(Date.parse(iso) + seconds * 1000).toISOString();

const encodeCursor = (datasetId: string): string => Buffer.from(datasetId, 'utf8').toString('base64url');

function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!ID_PATTERN.test(id)) throw validationFailed('cursor is not one this ledger returned');
  return id;
}
