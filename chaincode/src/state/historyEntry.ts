import type { Identity } from './identity';
import type { LeaseRecord } from './leaseRecord';

export type HistoryAction =
  | 'registered'
  | 'updated'
  | 'dataset-updated'
  | 'deleted'
  | 'leased'
  | 'released'
  | 'expired'
  | 'workflow-launched'
  | 'workflow-finished'
  | 'workflow-cleaned-up'
  | 'approval-requested'
  | 'approved'
  | 'rejected'
  | 'results-released'
  | 'results-rejected';

/** One entry of a dataset's audit key: written (blindly) by every transaction that changes
 * the dataset, its lease, or a workflow using it, so its key history is the dataset's history. */
export interface AuditEntry {
  action: HistoryAction;
  by: Identity;
  /** The dataset, lease or workflow state after the transaction (for `deleted`, the
   * tombstone; for `released` and `expired`, the lease that ended). */
  value?: unknown;
  /** On `deleted`: the lease that was in force and ended with the dataset. */
  endedLease?: LeaseRecord;
}

export interface HistoryEntry extends AuditEntry {
  txId: string;
  timestamp: string;
}
