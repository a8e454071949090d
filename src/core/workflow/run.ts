import type { ApprovalState, Caller, JobHandle, JobStatus, WorkflowStatus } from '../model';
import type { JobSpec, WorkflowSpec } from './spec';

/**
 * The shapes of one workflow run as they cross the orchestration boundary: the inputs the
 * orchestrators start with, what a job sub-orchestration returns, and the custom status the
 * workflow orchestrator publishes (what GET /workflows/{id} shows). All of it is recorded
 * in orchestration history, so none of it may carry a secret or a file's contents.
 */

export interface WorkflowOptions {
  /** Release every lease the run used once it has been cleaned up. */
  releaseLeases: boolean;
}

/** Timing knobs, fixed at submission so replays see the same values. */
export interface RunTiming {
  /** How often a job's orchestrator asks the backend for the job's state, in case the completion callback is lost. */
  statusPollSeconds: number;
  /** Extra time past a job's own timeout before its orchestrator gives up on it. */
  completionGraceSeconds: number;
  /** How often the workflow orchestrator wakes up on its own to notice a job
   * orchestration that ended without reporting (its report is the usual wake-up). */
  watchdogSeconds: number;
  /** A job's timeout when neither it nor the workflow names one. */
  defaultJobTimeoutSeconds: number;
  /** The image of a job when neither it nor the workflow names one. */
  defaultImage: string;
}

/** What an owner reviews before approving: the YAML as submitted and each code file's
 * digest (the contents stay in the workspace; digests and YAML carry no secret the spec
 * does not already carry). */
export interface RunReview {
  workflow: string;
  files: { path: string; size: number; sha256: string }[];
}

export interface WorkflowInput {
  workflowId: string;
  caller: Caller;
  spec: WorkflowSpec;
  /** sha256 of the code files as submitted (hash.ts filesHash); the spec's own hash is
   * computed from `spec` where it goes to the ledger, so it always names what runs. */
  filesHash: string;
  /** The mounted datasets of other organizations whose policy asked for approval at
   * submission; the chaincode decides again at request and at launch. */
  approvalDatasetIds: string[];
  /** Whether, at submission, a mounted dataset's policy withheld the outputs (`results:
   * review` of another organization, or a `maxResultBytes`): the requester then reads no
   * output until the ledger says they are released. Absent on runs submitted before. */
  resultsWithheld?: boolean;
  review: RunReview;
  options: WorkflowOptions;
  timing: RunTiming;
}

export interface JobInput {
  workflowId: string;
  caller: Caller;
  job: JobSpec;
  image: string;
  timeoutSeconds: number;
  timing: Pick<RunTiming, 'statusPollSeconds' | 'completionGraceSeconds'>;
  /** The content version of each mounted dataset, as the launch record names it: what the
   * job mounts, whatever version the dataset reached since. Absent on runs launched before. */
  datasetVersions?: Record<string, number>;
  /**
   * Whether a successful end is also reported by event (default true). The workflow
   * orchestrator turns it off for a job it waits on directly (started alone, nothing else
   * running), whose sub-orchestration completion reports it one engine step sooner.
   */
  reportSuccess?: boolean;
}

export type JobOutcome = Extract<JobStatus, 'Succeeded' | 'Failed' | 'Canceled'>;

export interface JobResult {
  status: JobOutcome;
  exitCode: number | null;
  startedAt: string | null;
  endedAt: string | null;
  attempts: number;
  /** Why a job failed without an exit code of its own (timeout, lease lost, launch refused). */
  message?: string;
}

export interface JobState extends Omit<JobResult, 'status'> {
  index: number;
  name: string;
  status: JobStatus;
}

/** The custom status of a workflow orchestration. */
export interface WorkflowRunStatus {
  status: WorkflowStatus;
  submittedBy: Caller;
  datasetIds: string[];
  jobs: JobState[];
  /** Why the run stopped early, in words. */
  message?: string;
  /** The owners' decisions the run waits or waited for, one per dataset that needs one. */
  approvals?: RunApproval[];
  /** From the launch on: the content version of each mounted dataset the run reads. */
  datasetVersions?: Record<string, number>;
}

export interface RunApproval {
  datasetId: string;
  owner: string;
  state: ApprovalState;
}

/** The payload of an approval-decided event, raised by the approvals route after the
 * decision is on the ledger. The chaincode still refuses a launch the ledger does not back,
 * so a forged `approved` ends in a refused launch, not in a run. */
export interface ApprovalDecided {
  state: Exclude<ApprovalState, 'pending'>;
  by: Caller;
  reason?: string;
}

/** The custom status of a job orchestration: the attempt in progress and its backend
 * handle (not a secret), which is how the logs route finds the job. */
export interface JobRunStatus {
  attempt: number;
  handle: JobHandle;
}

/** The payload of the `job-completed` event that the completion callback raises. */
export interface JobCompletion {
  attempt: number;
  /** null when the backend saw the job end without an exit code (killed, evicted). */
  exitCode: number | null;
  startedAt?: string;
  endedAt?: string;
  /** Why the backend ended the job, when it did (a limit: time, memory, disk quota). */
  message?: string;
}

/** Orchestrator function names, shared by their registration and the code that starts them. */
export const ORCHESTRATORS = {
  workflow: 'workflowOrchestrator',
  job: 'jobOrchestrator',
  cleanup: 'cleanupOrchestrator',
  leaseExpiry: 'leaseExpiryOrchestrator',
} as const;

/** The instance id of a run's cleanup orchestration: derived, so a redelivered cleanup
 * message finds the cleanup already started and does nothing twice. */
export function cleanupInstanceId(workflowId: string): string {
  return `${workflowId}:cleanup`;
}

/** The input of a lease's expiry timer: the lease it ends, named by dataset and expiry. */
export interface LeaseExpiryInput {
  datasetId: string;
  expiresAt: string;
}

/** The instance id of a lease's expiry timer: derived from the lease, so starting it again
 * (a replayed ledger event, a restart) finds it and starts nothing twice. */
export function leaseExpiryInstanceId({ datasetId, expiresAt }: LeaseExpiryInput): string {
  return `lease-expiry:${datasetId}:${expiresAt}`;
}

export const WORKFLOW_EVENTS = { cancel: 'cancel', jobCompleted: 'job-completed' } as const;

/** The `cancel` event's payload: why the run stops (a user's cancel, a lease that ended). */
export interface CancelRequest {
  reason: string;
}

/** The run's message for a `cancel` event: its reason, or plain `canceled` for one without. */
export function cancelMessage(data: unknown): string {
  const reason = typeof data === 'object' && data !== null ? (data as Partial<CancelRequest>).reason : undefined;
  return typeof reason === 'string' && reason.length > 0 ? reason : 'canceled';
}

/** The event that carries an owner's decision on one dataset (payload: ApprovalDecided). One
 * name per dataset, so each pending request has exactly one outstanding wait. */
export function approvalDecidedEvent(datasetId: string): string {
  return `approval-decided-${datasetId}`;
}

/** The event a job's orchestrator raises on the workflow orchestrator when the job is done
 * (payload: its JobResult). One name per job, so that each running job has exactly one
 * outstanding wait and no report can land in another job's wait. */
export function jobFinishedEvent(jobIndex: number): string {
  return `job-finished-${jobIndex}`;
}

/** The instance id of a job's sub-orchestration: derived, so the completion callback can
 * address it from the workflow id and job name alone. Encoded because job names are user
 * text and instance ids may not contain `/`, `\`, `#` or `?`. */
export function jobInstanceId(workflowId: string, jobName: string): string {
  return `${workflowId}:job:${encodeURIComponent(jobName)}`;
}

export function initialJobStates(spec: WorkflowSpec): JobState[] {
  return spec.jobs.map((job) => ({
    index: job.index,
    name: job.name,
    status: 'Pending',
    exitCode: null,
    startedAt: null,
    endedAt: null,
    attempts: 0,
  }));
}

export type RunOutcome = Extract<WorkflowStatus, 'Succeeded' | 'Failed' | 'Canceled' | 'Rejected'>;

export function isFinished(status: WorkflowStatus): status is RunOutcome {
  return status === 'Succeeded' || status === 'Failed' || status === 'Canceled' || status === 'Rejected';
}

/** The message on the `workflow-cleanup` queue when a run has finished. */
export interface CleanupMessage {
  workflowId: string;
  caller: Caller;
  status: RunOutcome;
  datasetIds: string[];
  releaseLeases: boolean;
  /** false when the launch never reached the ledger (rejected, canceled while awaiting
   * approval, launch refused): there is no ledger record to mark cleaned up. */
  launched?: boolean;
  /** true when the ledger recorded the outputs as rejected at finish (over maxResultBytes,
   * or not listable where a dataset needed them): cleanup deletes them. */
  deleteOutputs?: boolean;
  /** true when the outputs await review: cleanup keeps them (the cluster backends' workspace
   * claim) for the reviewing owners and a release. */
  keepOutputs?: boolean;
}
