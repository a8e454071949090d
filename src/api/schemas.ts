import { z } from 'zod';
import { WORKFLOW_STATUSES } from '../core/model';
import { RECEIPT_FORMAT } from '../core/receipt';

/**
 * The HTTP API's response shapes (and the workflow request), as zod schemas: the one
 * description of the wire that the OpenAPI document (src/api/openapi.ts) is generated
 * from, that the CLI parses server answers with, and that tests check real responses
 * against. Request bodies of the dataset routes live with their routes' validation
 * (src/api/datasetRequests.ts) and are referenced by the route table, not restated.
 *
 * Response objects are strict: a field the server adds without documenting it fails the
 * contract tests instead of drifting silently.
 */

const isoTime = z.iso.datetime({ offset: true });

export const identity = z.strictObject({ user: z.string(), org: z.string() }).meta({ description: 'A user of an organization' });

export const leasePolicy = z.strictObject({
  leaseTtlSeconds: z.int().positive(),
  maxLeaseTtlSeconds: z.int().positive(),
  approval: z
    .enum(['required', 'none'])
    .meta({ description: "required: a lessee's run waits for the owner's approval of its exact spec and files (the default); none: the owner opted out" }),
  results: z.enum(['release', 'review']).meta({
    description: "release: a run's outputs go to its requester when it ends (the default); review: they are withheld until the owner releases them",
  }),
  maxResultBytes: z.int().positive().optional().meta({ description: "the most bytes a run's outputs (files and logs) may take together" }),
});

export const lease = z.strictObject({
  datasetId: z.string(),
  holder: identity,
  takenAt: isoTime,
  expiresAt: isoTime,
});

export const dataset = z.strictObject({
  id: z.string().meta({ description: '32 hex characters, used everywhere after registration' }),
  name: z.string(),
  description: z.string(),
  owner: identity,
  policy: leasePolicy,
  storageKind: z.enum(['local', 'azure-files']),
  version: z.int().positive().meta({ description: 'the content version: 1 at registration, one more with every PUT /datasets/{id}/files' }),
  contentHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable()
    .meta({
      description:
        "Merkle-style sha256 of the version's paths and file hashes, as recorded on the ledger; null for data the platform did not write (adopted, Azure Files)",
    }),
  createdAt: isoTime,
  updatedAt: isoTime,
  deletedAt: isoTime.optional(),
  state: z.enum(['leased', 'free', 'deleted']),
  lease: lease.nullable(),
});

export const datasetPage = z.strictObject({ items: z.array(dataset), nextCursor: z.string().optional() });

export const deletedDataset = z.strictObject({
  ...dataset.shape,
  cryptoShred: z.strictObject({ purged: z.boolean(), reason: z.string().optional() }),
});

export const treeEntry = z.strictObject({
  path: z.string(),
  type: z.enum(['file', 'directory']),
  size: z.int().nonnegative().optional(),
});

export const treePage = z.strictObject({ datasetId: z.string(), items: z.array(treeEntry), nextCursor: z.string().optional() });

export const historyEntry = z.strictObject({
  txId: z.string(),
  timestamp: isoTime,
  action: z.string().meta({
    description:
      'registered, updated, dataset-updated (a new content version), deleted, leased, released, expired, workflow-launched, workflow-finished, workflow-cleaned-up',
  }),
  by: identity,
  value: z.unknown().optional(),
});

export const history = z.strictObject({ datasetId: z.string(), items: z.array(historyEntry) });

/** POST /datasets/{id}/lease, 201. */
export const leaseTaken = z.strictObject({ datasetId: z.string(), holder: identity, expiresAt: isoTime });

export const workflowStatus = z.enum(WORKFLOW_STATUSES);
export const jobStatus = z.enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Skipped', 'Canceled']);

export const jobView = z.strictObject({
  index: z.int().positive(),
  name: z.string(),
  status: jobStatus,
  exitCode: z.int().nullable(),
  startedAt: isoTime.nullable(),
  endedAt: isoTime.nullable(),
  attempts: z.int().nonnegative(),
  message: z.string().optional(),
  dependsOn: z
    .array(z.int().positive())
    .optional()
    .meta({ description: "indexes of the jobs this one starts after (the spec's `dags`); absent when the run's spec is not known" }),
});

export const approvalState = z.enum(['pending', 'approved', 'rejected']);

export const workflowView = z.strictObject({
  id: z.string(),
  status: workflowStatus,
  createdAt: isoTime,
  updatedAt: isoTime,
  message: z.string().optional(),
  approvals: z
    .array(z.strictObject({ datasetId: z.string(), owner: z.string().meta({ description: 'owner organization' }), state: approvalState }))
    .optional()
    .meta({ description: "one per mounted dataset whose owner's approval the run needs" }),
  datasetVersions: z
    .record(z.string(), z.int().positive())
    .optional()
    .meta({ description: 'from the launch on: the content version of each mounted dataset the run reads (dataset id to version)' }),
  jobs: z.array(jobView),
});

export const workflowPage = z.strictObject({ items: z.array(workflowView), nextCursor: z.string().optional() });

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

export const approval = z.strictObject({
  workflowId: z.string(),
  datasetId: z.string(),
  datasetName: z.string(),
  requester: identity,
  specHash: sha256Hex.meta({ description: 'sha256 of the canonical spec: jobs, commands, images, env, edges, volumes, resources' }),
  filesHash: sha256Hex.meta({ description: 'sha256 over every code file (path and sha256)' }),
  state: approvalState,
  requestedAt: isoTime,
  decidedAt: isoTime.optional(),
  decidedBy: identity.optional(),
  reuse: z.boolean().optional(),
  comment: z.string().optional(),
  reason: z.string().optional(),
  reusedFrom: z.string().optional().meta({ description: 'approved at request by the reusable approval of this earlier run' }),
});

export const approvalPage = z.strictObject({ items: z.array(approval), nextCursor: z.string().optional() });

export const approvalReview = z.strictObject({
  workflowId: z.string(),
  requester: identity,
  status: workflowStatus,
  workflow: z.string().meta({ description: 'the workflow.yaml as submitted' }),
  files: z.array(
    z.strictObject({
      path: z.string(),
      size: z.int().nonnegative(),
      sha256: sha256Hex,
      content: z.string().optional().meta({ description: 'as text; omitted over 1 MiB (GET /approvals/{workflowId}/files/{path})' }),
    }),
  ),
  datasets: z.array(z.strictObject({ id: z.string(), name: z.string(), owner: z.string(), state: approvalState })),
  specHash: z.string(),
  filesHash: sha256Hex,
});

export const approvalDecided = z.strictObject({ workflowId: z.string(), items: z.array(approval) });

const outputFile = z.strictObject({ path: z.string(), size: z.int().nonnegative(), sha256: sha256Hex });
const outputLog = z.strictObject({ job: z.string(), size: z.int().nonnegative(), sha256: sha256Hex });

/** GET /workflows/{id}/results, and the answer to a decision on them. */
export const workflowResults = z.strictObject({
  state: z.enum(['released', 'pending-review', 'rejected']),
  files: z
    .array(outputFile)
    .meta({ description: 'every workspace file the run created or changed (regular files only), as recorded on the ledger at its finish' }),
  logs: z.array(outputLog).meta({ description: "every started job's log, as served by GET /workflows/{id}/jobs/{job}/logs" }),
  reviews: z.array(
    z.strictObject({
      datasetId: z.string(),
      org: z.string().meta({ description: 'the owner organization that reviews' }),
      state: z.enum(['pending', 'released', 'rejected']),
      decidedAt: isoTime.optional(),
      decidedBy: identity.optional(),
      reason: z.string().optional(),
    }),
  ),
  outputsSha256: sha256Hex.optional().meta({ description: 'sha256 of the canonical JSON of {files, logs}: what each decision on the ledger names' }),
  reason: z.string().optional().meta({ description: 'why the outputs are withheld without a review (over maxResultBytes)' }),
});

/** POST /workflows, 202. */
export const workflowAccepted = z.strictObject({ id: z.string(), statusUrl: z.string() });

const txRef = { txId: z.string(), blockNumber: z.int().nonnegative() };
const receiptFile = z.strictObject({ path: z.string(), size: z.int().nonnegative(), sha256: sha256Hex });
const receiptLog = z.strictObject({ job: z.string(), size: z.int().nonnegative(), sha256: sha256Hex });

export const receiptTransaction = z
  .strictObject({
    ...txRef,
    key: z.string().meta({ description: 'the world-state key written (Fabric composite keys keep their U+0000 separators)' }),
    kind: z
      .string()
      .meta({ description: 'lease-taken, lease-ended, approval-requested, approval-approved, launch, finish, cleanup, ... (any record kind the ledger adds)' }),
    timestamp: isoTime,
    value: z.unknown().optional().meta({ description: 'the JSON value written' }),
    valueSha256: sha256Hex.optional().meta({ description: 'instead of the value, where it carries a dataset location or a credential' }),
    deleted: z.boolean().optional(),
  })
  .meta({ description: 'One write of one ledger transaction that concerns the run' });

/** GET /workflows/{id}/receipt: every ledger transaction of the run (src/core/receipt.ts). */
export const workflowReceipt = z.strictObject({
  format: z.literal(RECEIPT_FORMAT),
  workflowId: z.string(),
  ledger: z.strictObject({ channel: z.string(), chaincode: z.string() }),
  transactions: z.array(receiptTransaction),
  run: z
    .strictObject({
      datasetIds: z.array(z.string()),
      leases: z.array(z.strictObject({ ...txRef, datasetId: z.string(), holder: z.unknown(), takenAt: z.string(), expiresAt: z.string() })),
      leaseEnds: z.array(z.strictObject({ ...txRef, datasetId: z.string() })),
      approvals: z.array(
        z.strictObject({ ...txRef, datasetId: z.string(), owner: z.string(), state: z.string(), specHash: z.string(), filesHash: z.string() }),
      ),
      launch: z
        .strictObject({
          ...txRef,
          specHash: z.string(),
          filesHash: z.string().optional(),
          datasetIds: z.array(z.string()),
          datasetVersions: z
            .array(z.strictObject({ datasetId: z.string(), version: z.int(), contentHash: z.string().optional() }))
            .optional()
            .meta({ description: 'the content version of each dataset the run read, as the launch record names it' }),
          backend: z.string().optional(),
          images: z.array(z.string()).optional(),
        })
        .nullable(),
      jobs: z.array(z.unknown()),
      finish: z.strictObject({ ...txRef, status: z.string() }).nullable(),
      outputs: z.strictObject({ ...txRef, files: z.array(receiptFile), logs: z.array(receiptLog), sha256: z.string().optional() }).nullable(),
      results: z.string().nullable(),
      reviews: z.array(
        z.strictObject({ ...txRef, kind: z.string(), state: z.string(), datasetId: z.string().optional(), outputsSha256: z.string().optional() }),
      ),
      cleanup: z.strictObject(txRef).nullable(),
    })
    .meta({ description: 'What the transactions say, by name; `ledgerflow receipt verify` rebuilds it from them' }),
});

/** POST /workflows/{id}/cancel, 202. */
export const workflowCanceling = z.strictObject({ id: z.string(), status: z.literal('canceling') });

/** DELETE /workflows/{id}, 200: what the purge removed (the ledger keeps the run's records). */
export const workflowDeleted = z.strictObject({
  id: z.string(),
  instances: z.int().nonnegative().meta({ description: 'durable instances deleted (workflow, jobs, cleanup)' }),
  messages: z.int().nonnegative().meta({ description: 'queue messages deleted' }),
});

/** POST /callbacks/jobs, 202. */
export const callbackAccepted = z.strictObject({ accepted: z.literal(true) });

export const errorDetail = z.strictObject({ path: z.string(), message: z.string() });

/** Every error: a stable code, one message, and per-field details; some codes carry
 * caller-safe data beside them (lease_held: `holder`, `expiresAt`). */
export const errorBody = z.strictObject({
  error: z.looseObject({
    code: z.string(),
    message: z.string(),
    details: z.array(errorDetail).optional(),
  }),
});

/** Liveness: informational, so it may grow fields without breaking clients. */
export const health = z.looseObject({
  /** `degraded`: alive, but local jobs cannot run (no sandbox works on this machine), or the
   * data disk is full (`storage.message` says so). */
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  adapters: z.record(z.string(), z.string()),
  /** The compute backend; for `local`, the sandbox its jobs run in. */
  compute: z
    .looseObject({
      backend: z.string(),
      sandbox: z.enum(['bwrap', 'unshare', 'none']).optional(),
      description: z.string().optional(),
    })
    .optional(),
  /** Room on the data disk: `full` while writes are refused with 507. */
  storage: z
    .looseObject({
      status: z.enum(['ok', 'full']),
      freeBytes: z.number(),
      message: z.string().optional(),
    })
    .optional(),
});

export type Dataset = z.output<typeof dataset>;
export type DatasetPage = z.output<typeof datasetPage>;
export type DeletedDataset = z.output<typeof deletedDataset>;
export type TreePage = z.output<typeof treePage>;
export type History = z.output<typeof history>;
export type Lease = z.output<typeof lease>;
export type LeaseTaken = z.output<typeof leaseTaken>;
export type WorkflowView = z.output<typeof workflowView>;
export type Schedule = z.output<typeof schedule>;
export type SchedulePage = z.output<typeof schedulePage>;
export type WorkflowPage = z.output<typeof workflowPage>;
export type JobView = z.output<typeof jobView>;
export type WorkflowAccepted = z.output<typeof workflowAccepted>;
export type ErrorBody = z.output<typeof errorBody>;
export type Approval = z.output<typeof approval>;
export type ApprovalPage = z.output<typeof approvalPage>;
export type ApprovalReview = z.output<typeof approvalReview>;
export type ApprovalDecided = z.output<typeof approvalDecided>;
export type Health = z.output<typeof health>;
export type WorkflowResults = z.output<typeof workflowResults>;
export type WorkflowReceipt = z.output<typeof workflowReceipt>;

/** Shapes that get a name of their own in the OpenAPI document; others are named after
 * their route. */
export const scheduleRun = z.strictObject({
  workflowId: z.string().nullable().meta({ description: 'the run the tick submitted; null when it could not run (see reason)' }),
  status: z.string().meta({ description: "the run's status (as GET /workflows/{id}), or Skipped / Missed for a tick that did not run" }),
  submittedAt: isoTime,
  tick: isoTime.optional().meta({ description: "time schedules: the tick's time; every tick is recorded once" }),
  version: z.int().positive().optional().meta({ description: 'data triggers: the dataset version the tick is for' }),
  reason: z.string().optional().meta({ description: 'lease not held, awaiting approval, previous run still running, missed while the platform was down, ...' }),
});

export const schedule = z.strictObject({
  id: z.string(),
  name: z.string(),
  creator: identity,
  workflow: z.string().meta({ description: 'the workflow YAML each tick submits' }),
  fileCount: z.int().nonnegative().meta({ description: 'how many code files go with it' }),
  schedule: z.string().optional().meta({ description: 'six-field NCRONTAB (UTC)' }),
  trigger: z.strictObject({ datasetUpdated: z.string() }).optional().meta({ description: 'runs once per new version of this dataset' }),
  enabled: z.boolean(),
  options: z.strictObject({ overlap: z.enum(['skip', 'allow']), releaseLeases: z.boolean() }),
  createdAt: isoTime,
  nextRunAt: isoTime.nullable().meta({ description: 'time schedules while enabled: the next tick; null otherwise' }),
  runs: z.array(scheduleRun).meta({ description: 'newest first, the last 100 ticks' }),
});

export const schedulePage = z.strictObject({ items: z.array(schedule) });

export const namedSchemas: Readonly<Record<string, z.ZodType>> = {
  Error: errorBody,
  Identity: identity,
  LeasePolicy: leasePolicy,
  Lease: lease,
  Dataset: dataset,
  DatasetPage: datasetPage,
  TreeEntry: treeEntry,
  HistoryEntry: historyEntry,
  JobView: jobView,
  WorkflowView: workflowView,
  WorkflowPage: workflowPage,
  WorkflowResults: workflowResults,
  Approval: approval,
  ApprovalPage: approvalPage,
  ApprovalReview: approvalReview,
  WorkflowReceipt: workflowReceipt,
  ReceiptTransaction: receiptTransaction,
  Schedule: schedule,
  ScheduleRun: scheduleRun,
  SchedulePage: schedulePage,
};
