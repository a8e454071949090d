import type { Context } from 'fabric-contract-api';
import type { ChaincodeStub } from 'fabric-shim-api';
import { KeyEndorsementPolicy } from 'fabric-shim';
import { canonicalBytes } from './canonical';
import { checkMonotonic, proposalMillis } from './clock';
import { gone, notFound } from './errors';
import { auditKey, datasetKey, leaseKey } from './keys';
import type { StoredDataset } from './state/datasetRecord';
import type { AuditEntry } from './state/historyEntry';
import type { LeaseRecord } from './state/leaseRecord';

/** World-state access shared by the contract's transaction modules: canonical JSON in and
 * out, the audit entry and event every change writes, and the reads most rules start from. */

export function parseJson<T>(bytes: Uint8Array): T {
  return JSON.parse(Buffer.from(bytes).toString('utf8')) as T;
}

export async function readJson<T>(stub: ChaincodeStub, key: string): Promise<T | undefined> {
  const bytes = await stub.getState(key);
  return bytes === undefined || bytes.length === 0 ? undefined : parseJson<T>(bytes);
}

export async function writeJson(stub: ChaincodeStub, key: string, value: unknown): Promise<void> {
  await stub.putState(key, canonicalBytes(value));
}

/**
 * Writes a key that belongs to one or more organizations (a dataset's record and policy to its
 * owner, an approval to the dataset's owner, a run's results to its launcher and reviewers)
 * and binds it to their endorsement (Fabric state-based endorsement): from then on no
 * transaction changes the key unless a peer of each of those organizations endorsed it, so
 * a majority of other organizations, running modified chaincode, cannot. The policy is set on
 * every write, so keys written before this rule get it at their next change.
 */
export async function writeOwned(stub: ChaincodeStub, key: string, value: unknown, ownerMspIds: readonly string[]): Promise<void> {
  await writeJson(stub, key, value);
  await stub.setStateValidationParameter(key, ownersPolicy(ownerMspIds));
}

const policies = new Map<string, Buffer>();
/** AND of a member of each organization, as fabric-shim's KeyEndorsementPolicy writes it. */
function ownersPolicy(mspIds: readonly string[]): Buffer {
  const sorted = [...new Set(mspIds)].sort();
  const cacheKey = sorted.join('\n');
  let policy = policies.get(cacheKey);
  if (policy === undefined) {
    const builder = new KeyEndorsementPolicy();
    builder.addOrgs('MEMBER', ...sorted);
    policy = Buffer.from(builder.getPolicy());
    policies.set(cacheKey, policy);
  }
  return policy;
}

/** Every change of a dataset passes here, so this is where its time must not run backwards:
 * the audit key's newest history entry is the dataset's last committed change. A history
 * query is no read in the read set, so the write stays blind (no added MVCC conflicts). */
export async function audit(ctx: Context, datasetId: string, entry: AuditEntry): Promise<void> {
  const key = auditKey(ctx.stub, datasetId);
  checkMonotonic(datasetId, proposalMillis(ctx), await lastChangeMillis(ctx.stub, key));
  await writeJson(ctx.stub, key, entry);
}

/** Fabric 2.x returns a key's history newest first, so the first entry is the last change. */
async function lastChangeMillis(stub: ChaincodeStub, key: string): Promise<number | undefined> {
  const history = await stub.getHistoryForKey(key);
  try {
    const newest = await history.next();
    return newest.done === true || newest.value === undefined ? undefined : Date.parse(timestampIso(newest.value.timestamp));
  } finally {
    await history.close();
  }
}

export function timestampIso(ts: { seconds: number | { toNumber(): number }; nanos: number }): string {
  const seconds = typeof ts.seconds === 'number' ? ts.seconds : ts.seconds.toNumber();
  return new Date(seconds * 1000 + Math.floor(ts.nanos / 1e6)).toISOString();
}

export function emit(ctx: Context, name: string, payload: unknown): void {
  ctx.stub.setEvent(name, canonicalBytes(payload));
}

export async function liveDataset(stub: ChaincodeStub, datasetId: string): Promise<StoredDataset> {
  const dataset = await readJson<StoredDataset>(stub, datasetKey(datasetId));
  if (dataset === undefined) throw notFound(`dataset ${datasetId}`);
  if (dataset.deletedAt !== undefined) throw gone(`dataset ${datasetId}`);
  return dataset;
}

export async function activeLease(ctx: Context, datasetId: string): Promise<LeaseRecord | undefined> {
  const lease = await readJson<LeaseRecord>(ctx.stub, leaseKey(ctx.stub, datasetId));
  return lease !== undefined && isActive(lease, txTime(ctx)) ? lease : undefined;
}

export const txTime = (ctx: Context): string => ctx.stub.getDateTimestamp().toISOString();
export const isActive = (lease: LeaseRecord, nowIso: string): boolean => Date.parse(lease.expiresAt) > Date.parse(nowIso);
