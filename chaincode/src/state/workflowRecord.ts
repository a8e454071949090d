import type { Identity } from './identity';
import type { OutputManifest, WorkflowResults } from './resultsRecord';

export type FinishedStatus = 'Succeeded' | 'Failed' | 'Canceled';

export interface WorkflowJobOutcome {
  name: string;
  status: string;
  exitCode: number | null;
}

export interface DatasetVersion {
  datasetId: string;
  version: number;
  contentHash?: string;
}

/** What the ledger knows of one workflow run: who launched it, on which datasets, with which spec. */
export interface WorkflowRecord {
  workflowId: string;
  datasetIds: string[];
  /** sha256 hex of the canonical spec and its files. */
  specHash: string;
  /** sha256 hex of the code files; present when a launch needed an approval's match. */
  filesHash?: string;
  /** The compute backend that ran it (local, kubernetes, argo). */
  backend?: string;
  /** The images its jobs ran in, where the backend runs images. */
  images?: string[];
  /** The content version of each mounted dataset at the launch, read by the chaincode from
   * the datasets themselves: the version the run's jobs mount. Absent on older records. */
  datasetVersions?: DatasetVersion[];
  launchedBy: Identity;
  launchedAt: string;
  /** Fixed at launch from the datasets' policies: the owner organizations that review the
   * outputs (datasets with `results: review` of other organizations) and the smallest
   * `maxResultBytes`. */
  reviewers?: { datasetId: string; org: string; mspId: string }[];
  maxResultBytes?: number;
  status: 'Running' | FinishedStatus;
  finishedAt?: string;
  jobs?: WorkflowJobOutcome[];
  /** Recorded at finish. */
  outputs?: OutputManifest;
  /** sha256 hex of the canonical JSON of `outputs`: what a results decision names. */
  outputsSha256?: string;
  results?: WorkflowResults;
  cleanedUpAt?: string;
}
