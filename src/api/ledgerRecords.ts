import { z } from 'zod';
import type {
  ApprovalRecord,
  ChaincodeErrorBody,
  DatasetRecord,
  HistoryEntry,
  LeasePolicy,
  LeaseRecord,
  OutputManifest,
  Page,
  ResultsReview,
  TrailEntry,
  WorkflowLedgerRecord,
} from '../core/model';

/**
 * The ledger boundary: what the ledgerflow chaincode returns (transaction results) and emits
 * (chaincode events). The types are the chaincode package's own (`@ledgerflow/chaincode`,
 * re-exported by core/model.ts); the schemas here check that a peer's answer is one of them,
 * so a peer (or a chaincode version) that returns something else fails at the adapter with a
 * typed error instead of deep in a use case later.
 *
 * Adding a ledger call: write its result schema as `z.object({...}) satisfies
 * RecordSchema<TheChaincodeType>` (the compiler then insists on one entry per field of the
 * chaincode's type, optional ones included, so a field added there cannot be dropped here) and parse the
 * result in src/adapters/ledger/session.ts with `this.#result(schema, ...)`.
 */

/**
 * What a schema of the chaincode type T must be (`z.object({...}) satisfies RecordSchema<T>`):
 * its output is a T, and its shape names every field of T, optional ones included.
 */
export type RecordSchema<T> = z.ZodType<T> & { shape: { [K in keyof Required<T>]: z.ZodType } };

/** Transaction times, as the chaincode writes them (ISO-8601, from the transaction timestamp). */
const time = z.iso.datetime({ offset: true });
const identity = z.object({ user: z.string().min(1), org: z.string().min(1), mspId: z.string().min(1) });
const approvalPolicy = z.enum(['required', 'none']);

export const leasePolicySchema = z.object({
  leaseTtlSeconds: z.number().int().positive(),
  maxLeaseTtlSeconds: z.number().int().positive(),
  approval: approvalPolicy.optional(),
  results: z.enum(['release', 'review']).optional(),
  maxResultBytes: z.number().int().positive().optional(),
}) satisfies RecordSchema<LeasePolicy>;

export const leaseRecordSchema = z.object({
  datasetId: z.string().min(1),
  holder: identity,
  takenAt: time,
  expiresAt: time,
}) satisfies RecordSchema<LeaseRecord>;

export const datasetRecordSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  description: z.string(),
  owner: identity,
  policy: leasePolicySchema,
  storageKind: z.enum(['local', 'azure-files']),
  sealedLocation: z.string(),
  version: z.number().int().positive().optional(),
  contentHash: z.string().optional(),
  createdAt: time,
  updatedAt: time,
  deletedAt: time.optional(),
  lease: leaseRecordSchema.optional(),
}) satisfies RecordSchema<DatasetRecord>;

export const historyEntrySchema = z.object({
  txId: z.string().min(1),
  timestamp: time,
  action: z.enum([
    'registered',
    'updated',
    'dataset-updated',
    'deleted',
    'leased',
    'released',
    'expired',
    'workflow-launched',
    'workflow-finished',
    'workflow-cleaned-up',
    'approval-requested',
    'approved',
    'rejected',
    'results-released',
    'results-rejected',
  ]),
  by: identity,
  value: z.unknown().optional(),
  endedLease: leaseRecordSchema.optional(),
}) satisfies RecordSchema<HistoryEntry>;

export const approvalRecordSchema = z.object({
  workflowId: z.string().min(1),
  datasetId: z.string().min(1),
  datasetName: z.string(),
  owner: z.object({ org: z.string().min(1), mspId: z.string().min(1) }),
  requester: identity,
  lease: z.object({ takenAt: time, expiresAt: time }),
  specHash: z.string(),
  filesHash: z.string(),
  state: z.enum(['pending', 'approved', 'rejected']),
  requestedAt: time,
  decidedAt: time.optional(),
  decidedBy: identity.optional(),
  reuse: z.boolean().optional(),
  comment: z.string().optional(),
  reason: z.string().optional(),
  reusedFrom: z.string().optional(),
}) satisfies RecordSchema<ApprovalRecord>;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const size = z.number().int().nonnegative();

export const outputManifestSchema = z.object({
  files: z.array(z.object({ path: z.string().min(1), size, sha256 })),
  logs: z.array(z.object({ job: z.string().min(1), size, sha256 })),
}) satisfies RecordSchema<OutputManifest>;

export const resultsReviewSchema = z.object({
  datasetId: z.string().min(1),
  org: z.string().min(1),
  mspId: z.string().min(1),
  state: z.enum(['pending', 'released', 'rejected']),
  decidedAt: time.optional(),
  decidedBy: identity.optional(),
  reason: z.string().optional(),
  outputsSha256: sha256.optional(),
}) satisfies RecordSchema<ResultsReview>;

export const workflowRecordSchema = z.object({
  workflowId: z.string().min(1),
  datasetIds: z.array(z.string().min(1)),
  specHash: z.string(),
  filesHash: z.string().optional(),
  backend: z.string().optional(),
  images: z.array(z.string()).optional(),
  datasetVersions: z.array(z.object({ datasetId: z.string().min(1), version: z.number().int().positive(), contentHash: z.string().optional() })).optional(),
  launchedBy: identity,
  launchedAt: time,
  reviewers: z.array(z.object({ datasetId: z.string().min(1), org: z.string().min(1), mspId: z.string().min(1) })).optional(),
  maxResultBytes: z.number().int().positive().optional(),
  status: z.enum(['Running', 'Succeeded', 'Failed', 'Canceled']),
  finishedAt: time.optional(),
  jobs: z.array(z.object({ name: z.string(), status: z.string(), exitCode: z.number().int().nullable() })).optional(),
  outputs: outputManifestSchema.optional(),
  outputsSha256: sha256.optional(),
  results: z
    .object({ state: z.enum(['released', 'pending-review', 'rejected']), reviews: z.array(resultsReviewSchema), reason: z.string().optional() })
    .optional(),
  cleanedUpAt: time.optional(),
}) satisfies RecordSchema<WorkflowLedgerRecord>;

/** A refusal, as the chaincode writes it into the peer's error message (chaincode/src/errors.ts);
 * a `data` that is not an object is dropped, not the refusal. */
/** One write of a run's trail (WorkflowTrail): the value is the stored text, read by src/core/receipt.ts. */
export const trailEntrySchema = z.object({
  key: z.string().min(1),
  txId: z.string().min(1),
  timestamp: time,
  isDelete: z.boolean(),
  value: z.string(),
}) satisfies RecordSchema<TrailEntry>;

export const chaincodeErrorSchema = z.object({
  code: z.enum(['validation_failed', 'not_found', 'forbidden', 'conflict', 'lease_held', 'gone']),
  message: z.string(),
  data: z.record(z.string(), z.unknown()).optional().catch(undefined),
}) satisfies RecordSchema<ChaincodeErrorBody>;

/** A page of records, as the chaincode's list queries return them. */
export function pageSchema<T>(item: z.ZodType<T>): z.ZodType<Page<T>> {
  return z.object({ items: z.array(item), nextCursor: z.string().optional() });
}

/**
 * Chaincode event payloads the app acts on (chaincode/src/ledgerflowContract.ts `emit`), by
 * event name. Events not listed here are not read by the app.
 */
export const ledgerEventSchemas = {
  LeaseTaken: leaseRecordSchema,
  // Who released it (chaincode ReleaseLease); absent from events recorded before it said so.
  LeaseReleased: leaseRecordSchema.extend({ releasedBy: identity.optional(), releasedAs: z.enum(['holder', 'owner']).optional() }),
  LeasesExpired: z.object({ leases: z.array(leaseRecordSchema) }),
  DatasetDeleted: z.object({ dataset: datasetRecordSchema, endedLease: leaseRecordSchema.optional() }),
  DatasetContentUpdated: z.object({ datasetId: z.string().min(1), version: z.number().int().positive(), contentHash: z.string(), owner: identity }),
} satisfies Record<string, z.ZodType>;
