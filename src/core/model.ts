/**
 * Domain values shared by the API, the orchestrators and the ledger adapter.
 * Plain data only: these cross process boundaries (orchestration history, ledger, HTTP).
 */

/** An organization's short name, e.g. `uis`. Its Fabric MSP id is derived (`UisMSP`) or configured. */
export type OrgName = string;

/** Who is calling, as established by authentication (never by a request field). */
export interface Caller {
  user: string;
  org: OrgName;
}

export interface LeasePolicy {
  /** Lease length when the taker names none. */
  leaseTtlSeconds: number;
  /** Longest lease a taker may ask for. */
  maxLeaseTtlSeconds: number;
  /** Whether a lessee's run needs the owner's approval of its exact spec and files.
   * Absent on datasets recorded before it existed, which reads as `required`. */
  approval?: ApprovalPolicy;
  /** `review`: a run's outputs reach its requester only once the owner released them.
   * Absent reads as `release`. */
  results?: ResultsPolicy;
  /** The most bytes a run's outputs (files and logs) may take together. */
  maxResultBytes?: number;
}

export type ApprovalPolicy = 'required' | 'none';
export type ResultsPolicy = 'release' | 'review';

export type StorageKind = 'local' | 'azure-files';

/** A dataset as recorded on the ledger. `sealedLocation` is AES-256-GCM ciphertext
 * (base64url of iv|tag|ciphertext, associated data: the dataset id); only the owner's
 * key store holds the key. */
export interface DatasetRecord {
  id: string;
  name: string;
  description: string;
  owner: Caller & { mspId: string };
  policy: LeasePolicy;
  storageKind: StorageKind;
  sealedLocation: string;
  createdAt: string; // ISO-8601, from the transaction timestamp
  updatedAt: string;
  deletedAt?: string;
  lease?: LeaseRecord;
}

export interface LeaseRecord {
  datasetId: string;
  holder: Caller & { mspId: string };
  takenAt: string;
  expiresAt: string;
}

export type ApprovalState = 'pending' | 'approved' | 'rejected';

/** One owner organization's consent (or not) to one run on one of its datasets, as the
 * ledger records it (chaincode/src/state/approvalRecord.ts). */
export interface ApprovalRecord {
  workflowId: string;
  datasetId: string;
  datasetName: string;
  owner: { org: OrgName; mspId: string };
  requester: Caller & { mspId: string };
  /** The lease the run is under: its holder is the requester. */
  lease: { takenAt: string; expiresAt: string };
  specHash: string;
  filesHash: string;
  state: ApprovalState;
  requestedAt: string;
  decidedAt?: string;
  decidedBy?: Caller & { mspId: string };
  reuse?: boolean;
  comment?: string;
  reason?: string;
  /** Approved at request by an earlier reusable approval (that run's id). */
  reusedFrom?: string;
}

/** What a run left behind (files it created or changed, and job logs), as recorded on the
 * ledger at its finish (chaincode/src/state/resultsRecord.ts). */
export interface OutputManifest {
  files: { path: string; size: number; sha256: string }[];
  logs: { job: string; size: number; sha256: string }[];
}

export type ResultsState = 'released' | 'pending-review' | 'rejected';

export interface ResultsReview {
  datasetId: string;
  org: OrgName;
  mspId: string;
  state: 'pending' | 'released' | 'rejected';
  decidedAt?: string;
  decidedBy?: Caller & { mspId: string };
  reason?: string;
  outputsSha256?: string;
}

/** A run as the ledger records it (chaincode/src/state/workflowRecord.ts). */
export interface WorkflowLedgerRecord {
  workflowId: string;
  datasetIds: string[];
  launchedBy: Caller & { mspId: string };
  status: 'Running' | 'Succeeded' | 'Failed' | 'Canceled';
  reviewers?: { datasetId: string; org: OrgName; mspId: string }[];
  maxResultBytes?: number;
  outputs?: OutputManifest;
  outputsSha256?: string;
  results?: { state: ResultsState; reviews: ResultsReview[]; reason?: string };
}

export const WORKFLOW_STATUSES = ['AwaitingApproval', 'Pending', 'Running', 'Succeeded', 'Failed', 'Canceled', 'Rejected'] as const;
export type WorkflowStatus = (typeof WORKFLOW_STATUSES)[number];
export type JobStatus = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Skipped' | 'Canceled';

export interface Page<T> {
  items: T[];
  /** Opaque; pass back to get the next page. Absent on the last page. */
  nextCursor?: string;
}

/**
 * Where a dataset's bytes live. The location is what gets sealed onto the ledger; the
 * credential (Azure Files) goes to the owner's key store only.
 */
export type DatasetLocation =
  | { kind: 'local'; path: string; /** true: the owner's existing directory, never removed by us */ adopted?: boolean }
  | {
      kind: 'azure-files';
      /** The share, optionally with a directory path: https://<account>.file.core.windows.net/<share>[/<dir>] */
      shareUrl: string;
      /** key-store secret name */ credentialRef: string;
      adopted?: boolean;
    };

/** A launched job as its compute backend names it; plain data that may enter orchestration history. */
export interface JobHandle {
  backend: 'local' | 'kubernetes' | 'argo';
  /** Backend object name (process id key, Job name, Workflow name). */
  ref: string;
}

/** One ledger transaction that touched a dataset, as its history lists it. */
export interface HistoryEntry {
  txId: string;
  timestamp: string;
  /** What happened: registered, updated, deleted, leased, released, expired, workflow-launched, ... */
  action: string;
  by: { org: string; user: string; mspId: string };
  /** The dataset (or lease) state after the transaction; absent after deletion. */
  value?: unknown;
}
