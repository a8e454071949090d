import type { ApprovalPolicy } from './approvalRecord';
import type { ResultsPolicy } from './resultsRecord';

export interface LeasePolicy {
  /** Lease length when the taker names none. */
  leaseTtlSeconds: number;
  /** Longest lease a taker may ask for. */
  maxLeaseTtlSeconds: number;
  /** Absent on datasets recorded before it existed: reads as `required` (approvals.ts). */
  approval?: ApprovalPolicy;
  /** Absent reads as `release` (results.ts). */
  results?: ResultsPolicy;
  /** The most bytes a run's outputs may take together; absent: no limit. */
  maxResultBytes?: number;
}
