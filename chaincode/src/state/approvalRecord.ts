import type { Identity } from './identity';

/** Whether a lessee's workflow on the dataset needs its owner's approval. A dataset
 * recorded before the policy existed has no field, which reads as `required`. */
export type ApprovalPolicy = 'required' | 'none';

export type ApprovalState = 'pending' | 'approved' | 'rejected';

/** The lease a request runs under: a lease is its holder plus when it was taken. */
export interface ApprovalLease {
  takenAt: string;
  expiresAt: string;
}

/** One owner's consent (or not) to one workflow run on one of its datasets. */
export interface ApprovalRecord {
  workflowId: string;
  datasetId: string;
  datasetName: string;
  owner: { org: string; mspId: string };
  requester: Identity;
  lease: ApprovalLease;
  /** sha256 hex of the canonical spec (jobs, commands, images, env, edges, volumes, resources). */
  specHash: string;
  /** sha256 hex of every code file submitted with the spec. */
  filesHash: string;
  state: ApprovalState;
  requestedAt: string;
  decidedAt?: string;
  decidedBy?: Identity;
  /** On approval: later runs with the same hashes, holder and lease start without asking. */
  reuse?: boolean;
  comment?: string;
  /** On rejection: why. */
  reason?: string;
  /** Approved at request time by an earlier reusable approval (that run's workflow id). */
  reusedFrom?: string;
}

/** A reusable approval: stored under the dataset, holder, lease and hashes it covers. */
export interface ApprovalGrant {
  datasetId: string;
  holder: Identity;
  leaseTakenAt: string;
  specHash: string;
  filesHash: string;
  workflowId: string;
  grantedBy: Identity;
  grantedAt: string;
}
