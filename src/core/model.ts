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

/**
 * The ledger's records are the chaincode's own types (its package is the contract: what a
 * real Fabric peer running it returns), imported as types only: core stays free of the
 * chaincode's runtime. src/api/ledger.ts parses every result against them.
 */
export type {
  ApprovalPolicy,
  ApprovalRecord,
  ApprovalState,
  ChaincodeErrorBody,
  DatasetRecord,
  HistoryEntry,
  LeasePolicy,
  LeaseRecord,
  OutputManifest,
  Page,
  ResultsPolicy,
  ResultsReview,
  ResultsState,
  StorageKind,
  WorkflowRecord as WorkflowLedgerRecord,
  TrailEntry,
} from '@ledgerflow/chaincode';

export const WORKFLOW_STATUSES = ['AwaitingApproval', 'Pending', 'Running', 'Succeeded', 'Failed', 'Canceled', 'Rejected'] as const;
export type WorkflowStatus = (typeof WORKFLOW_STATUSES)[number];
export type JobStatus = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Skipped' | 'Canceled';

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
