import type { ApprovalPolicy } from './approvalRecord';

export interface LeasePolicy {
  /** Lease length when the taker names none. */
  leaseTtlSeconds: number;
  /** Longest lease a taker may ask for. */
  maxLeaseTtlSeconds: number;
  /** Absent on datasets recorded before it existed: reads as `required` (approvals.ts). */
  approval?: ApprovalPolicy;
}
