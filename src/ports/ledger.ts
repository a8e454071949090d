import type {
  ApprovalRecord,
  ApprovalState,
  Caller,
  DatasetRecord,
  HistoryEntry,
  LeasePolicy,
  LeaseRecord,
  OutputManifest,
  Page,
  StorageKind,
  WorkflowLedgerRecord,
  TrailEntry,
  WorkflowStatus,
} from '../core/model';
export type { HistoryEntry, TrailEntry } from '../core/model';

/**
 * The ledger as the rest of the app sees it. Implemented once, over
 * `@hyperledger/fabric-gateway` (src/adapters/ledger/), whether the peer is a real
 * Fabric network or the embedded peer. Identity is the session's: owner and holder are
 * decided by the chaincode from the submitter's certificate, never from these arguments.
 *
 * Failures are LedgerError subclasses (src/adapters/ledger/errors.ts) whose `code` maps to
 * the app's error codes: not_found, forbidden, lease_held (with holder and expiry), conflict
 * (MVCC read conflict after retries), unavailable.
 */
export interface Ledger {
  /** A session that submits as this caller's identity (org MSP + user certificate). */
  as(caller: Caller): LedgerSession;
  /** Chaincode events from a checkpoint (a block number, and the last transaction already
   * processed in that block), for auditors and the app. */
  events(options: { startBlock?: bigint; afterTransactionId?: string; signal?: AbortSignal }): AsyncIterable<LedgerEvent>;
  close(): Promise<void>;
}

export interface NewDataset {
  id: string;
  name: string;
  description: string;
  policy: LeasePolicy;
  storageKind: StorageKind;
  sealedLocation: string;
  /** Of version 1, where the storage computed one. */
  contentHash?: string;
}

/** A dataset's next content version (the one after the current) and its content hash. */
export interface DatasetContent {
  version: number;
  contentHash: string;
}

export interface DatasetPatch {
  name?: string;
  description?: string;
  policy?: LeasePolicy;
}

export interface DatasetQuery {
  owner?: string; // org name
  state?: 'leased' | 'free';
  includeDeleted?: boolean;
  pageSize: number;
  cursor?: string;
}

export interface WorkflowLaunch {
  workflowId: string;
  datasetIds: string[];
  /** sha256 hex of the canonical spec (src/core/workflow/hash.ts specHash). */
  specHash: string;
  /** sha256 hex of the code files; the chaincode needs it where a dataset requires approval. */
  filesHash: string;
  /** The compute backend that runs it (local, kubernetes, argo), for the record. */
  backend?: string;
  /** The images its jobs run in, on a backend that runs images. */
  images?: string[];
}

/** The approvals a run needs: one request per mounted dataset the chaincode finds needing one. */
export interface ApprovalRequest {
  workflowId: string;
  datasetIds: string[];
  specHash: string;
  filesHash: string;
}

export type ApprovalDecision = { decision: 'approve'; comment?: string; reuse?: boolean } | { decision: 'reject'; reason: string };

export interface WorkflowFinish {
  workflowId: string;
  status: Extract<WorkflowStatus, 'Succeeded' | 'Failed' | 'Canceled'>;
  jobs: { name: string; status: string; exitCode: number | null }[];
  /** Absent only when the outputs could not be listed (the chaincode then withholds them
   * where a dataset reviews or limits them). */
  outputs?: OutputManifest;
}

/** An owner organization's decision on a finished run's outputs, naming the manifest hash
 * it decided on (the chaincode refuses one that differs from the hash recorded at finish). */
export type ResultsDecision = { decision: 'release'; outputsSha256: string } | { decision: 'reject'; outputsSha256: string; reason: string };

export interface LedgerEvent {
  blockNumber: bigint;
  txId: string;
  name: string;
  /** The decoded JSON, unchecked (undefined when empty or not JSON): parse it with the event's
   * schema in src/api/ledgerRecords.ts. */
  payload: unknown;
}

/** A transaction as the ledger itself holds it (Fabric's qscc GetTransactionByID and
 * GetBlockByTxID), decoded: what a receipt names and its verifier checks. */
export interface CommittedTransaction {
  txId: string;
  blockNumber: number;
  /** Fabric's TxValidationCode; 0 (VALID) when its writes took effect. */
  validationCode: number;
  /** The channel header's timestamp (ISO-8601). */
  timestamp: string;
  /** MSP id of the client that signed it. */
  creatorMspId: string;
  /** The writes of its read/write set, in every namespace. */
  writes: { namespace: string; key: string; isDelete: boolean; value: Uint8Array }[];
}

export interface LedgerSession {
  registerDataset(input: NewDataset): Promise<DatasetRecord>;
  updateDataset(id: string, patch: DatasetPatch): Promise<DatasetRecord>;
  /** Records a new content version (owner organization only; `dataset-updated`). */
  updateDatasetContent(id: string, content: DatasetContent): Promise<DatasetRecord>;
  /** Tombstones the dataset (owner only); the sealed location is cleared. */
  deleteDataset(id: string): Promise<DatasetRecord>;
  getDataset(id: string): Promise<DatasetRecord | undefined>;
  listDatasets(query: DatasetQuery): Promise<Page<DatasetRecord>>;
  /** Takes the lease when free or expired (by transaction time). */
  takeLease(datasetId: string, ttlSeconds: number): Promise<LeaseRecord>;
  /** Holder or owner. */
  releaseLease(datasetId: string): Promise<void>;
  getLease(datasetId: string): Promise<LeaseRecord | undefined>;
  /** Expires every lease overdue at the transaction's timestamp; returns what it expired. */
  expireLeases(): Promise<LeaseRecord[]>;
  /** The launch record, with the dataset versions the chaincode read. */
  recordWorkflowLaunched(launch: WorkflowLaunch): Promise<WorkflowLedgerRecord>;
  recordWorkflowFinished(finish: WorkflowFinish): Promise<void>;
  recordWorkflowCleanedUp(workflowId: string): Promise<void>;
  /** The run's ledger record; undefined when the run never reached the ledger. */
  getWorkflow(workflowId: string): Promise<WorkflowLedgerRecord | undefined>;
  /** Decides every pending review of the run's outputs by the caller's organization. */
  decideResults(workflowId: string, decision: ResultsDecision): Promise<WorkflowLedgerRecord>;
  datasetHistory(datasetId: string): Promise<HistoryEntry[]>;
  /** Records the requests (as the lease holder); returns every request the run needs, some
   * possibly approved already by a reusable approval. Repeating it is harmless. */
  requestApprovals(request: ApprovalRequest): Promise<ApprovalRecord[]>;
  /** Decides every pending request of the run on datasets the caller's organization owns. */
  decideApprovals(workflowId: string, decision: ApprovalDecision): Promise<ApprovalRecord[]>;
  workflowApprovals(workflowId: string): Promise<ApprovalRecord[]>;
  /** Requests on datasets the caller's organization owns, newest first. */
  listApprovals(query: { state?: ApprovalState }): Promise<ApprovalRecord[]>;
  /** Every committed write of the run's keys and of its datasets' leases over its span. */
  workflowTrail(workflowId: string): Promise<TrailEntry[]>;
  /** The committed transaction, read from the ledger's blocks; undefined when no block has it. */
  transaction(txId: string): Promise<CommittedTransaction | undefined>;
}
