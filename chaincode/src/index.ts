import { LedgerflowContract } from './ledgerflowContract';

export { LedgerflowContract } from './ledgerflowContract';
export type { ChaincodeErrorBody, ChaincodeErrorCode } from './errors';
export type { ApprovalGrant, ApprovalLease, ApprovalPolicy, ApprovalRecord, ApprovalState } from './state/approvalRecord';
export type { DatasetRecord, StorageKind, StoredDataset } from './state/datasetRecord';
export type { AuditEntry, HistoryAction, HistoryEntry } from './state/historyEntry';
export type { Identity } from './state/identity';
export type { LeasePolicy } from './state/leasePolicy';
export type { LeaseRecord } from './state/leaseRecord';
export type { OutputManifest, ResultsPolicy, ResultsReview, ResultsState, ReviewState, WorkflowResults } from './state/resultsRecord';
export type { Page } from './state/page';
export type { TrailEntry } from './state/trailEntry';
export type { DatasetVersion, WorkflowJobOutcome, WorkflowRecord } from './state/workflowRecord';

/** Read by `fabric-chaincode-node start` (and by the embedded peer): the first is the default contract. */
export const contracts = [LedgerflowContract];
