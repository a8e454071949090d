import type { Identity } from './identity';

/** Whether a run's outputs go to its requester when it ends (`release`, the default) or only
 * once the dataset's owner organization has reviewed and released them (`review`). */
export type ResultsPolicy = 'release' | 'review';

/** What a run left behind: every workspace file it created or changed (regular files only)
 * and every job's log, each with its size and sha256 hex. */
export interface OutputManifest {
  files: { path: string; size: number; sha256: string }[];
  logs: { job: string; size: number; sha256: string }[];
}

export type ResultsState = 'released' | 'pending-review' | 'rejected';
export type ReviewState = 'pending' | 'released' | 'rejected';

/** One owner organization reviewing a run's outputs for one of its datasets. */
export interface ResultsReview {
  datasetId: string;
  org: string;
  mspId: string;
  state: ReviewState;
  decidedAt?: string;
  decidedBy?: Identity;
  reason?: string;
  /** On a decision: the sha256 of the manifest decided on, equal to the one recorded at finish. */
  outputsSha256?: string;
}

/** The fate of a finished run's outputs. */
export interface WorkflowResults {
  state: ResultsState;
  reviews: ResultsReview[];
  /** Why the outputs are withheld without a review (the size limit). */
  reason?: string;
}
