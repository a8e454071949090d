import type { JobHandle } from '../core/model';
import type { TimedLine } from '../core/logTimes';
export type { TimedLine } from '../core/logTimes';
export type { JobHandle } from '../core/model';

/**
 * Where jobs run: the local sandbox runner, Kubernetes Jobs, or Argo Workflows.
 * Called only from activities; results are plain data that may enter orchestration
 * history, so nothing here carries a secret.
 */
export interface VolumeMount {
  datasetId: string;
  name: string;
  /** Absolute path inside the job, e.g. /home/jovyan/uis. */
  mountPath: string;
}

export interface JobLaunch {
  workflowId: string;
  jobName: string;
  jobIndex: number; // 1-based, as in `dags`
  attempt: number; // 1-based
  command: string; // run by /bin/sh -c in the workspace
  image: string;
  env: Record<string, string>;
  volumes: VolumeMount[];
  resources: { cpu?: string; memory?: string };
  timeoutSeconds: number;
  /** Where the job reports completion (the job-completion HTTP callback), with its token. */
  callback: { url: string; token: string };
}

export type JobPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

export interface JobObservation {
  phase: JobPhase;
  exitCode: number | null;
  startedAt?: string;
  endedAt?: string;
  message?: string;
}

/** What an activity resolves, from the key store and storage, before launch. Secrets
 * here (credential) go straight to the backend as a mounted secret and are never returned. */
export interface ResolvedVolume extends VolumeMount {
  location: import('./datasetStorage').DatasetLocation;
  credential?: string;
}

/** Bytes served without holding them in memory: a result file or a log, opened once (so
 * what is measured is what is sent). `read` hands out a stream of [start, end] (inclusive)
 * and closes the source when that stream ends; `close` releases it when nothing is read. */
export interface ByteSource {
  readonly size: number;
  read(start: number, end: number): NodeJS.ReadableStream;
  close(): Promise<void>;
}

/** `since`: the cutoff, and the duration it was given as, if it was one (a cluster's log API
 * takes either). `tail`: only so many last lines are wanted (a backend may read less). */
export interface TimedLogQuery {
  since?: { nanos: bigint; seconds?: number };
  tail?: number;
}

export interface ComputeBackend {
  readonly kind: JobHandle['backend'];
  /** Creates the run's writable workspace with the submitted code files. Idempotent. */
  prepareWorkspace(workflowId: string, files: Record<string, string>): Promise<void>;
  /** Idempotent for the same (workflowId, jobName, attempt). */
  launch(job: JobLaunch, volumes: ResolvedVolume[]): Promise<JobHandle>;
  status(handle: JobHandle): Promise<JobObservation>;
  cancel(handle: JobHandle): Promise<void>;
  logs(handle: JobHandle): Promise<string>;
  /** A file the run wrote into its workspace (relative path, checked); undefined if absent. */
  readWorkspaceFile(workflowId: string, path: string): Promise<Buffer | undefined>;
  /** Optional, where files can be streamed: a regular file of the workspace, opened without
   * following a link and without blocking; undefined for anything else (missing, a link out
   * of the workspace, a FIFO, a directory), all alike. */
  openWorkspaceFile?(workflowId: string, path: string): Promise<ByteSource | undefined>;
  /** Optional: the job's log as a ByteSource. */
  openLog?(handle: JobHandle): Promise<ByteSource>;
  /** Optional: the job's log as timed lines, from a little before `since` on (callers filter
   * by time: a backend may hand out a few older lines), in order; times never go back, and a
   * line's time does not change between reads (a running job's last lines may wait until
   * their time is known). Undefined when the job has not started. */
  timedLog?(handle: JobHandle, query: TimedLogQuery): Promise<AsyncIterable<TimedLine> | Iterable<TimedLine> | undefined>;
  /** Deletes every object and temporary file of the run. Idempotent. `keepOutputs` (a run
   * whose results await review): keep its workspace, where a backend would delete it, until
   * `deleteOutputs` or a later cleanup without it. */
  cleanup(workflowId: string, options?: { keepOutputs?: boolean }): Promise<void>;
  /** Optional: every regular file of the run's workspace with its size and sha256, read
   * without following a link, and nothing else (no link, FIFO, socket or device). Throws
   * payload_too_large past MAX_OUTPUT_FILES (src/core/workflow/outputs.ts). A backend
   * without it records no workspace files in a run's manifest, only its logs. */
  workspaceFiles?(workflowId: string): Promise<{ path: string; size: number; sha256: string }[]>;
  /** True where a cleanup deletes the jobs' logs with their pods (the cluster backends): a
   * release after it checks the workspace files again and takes the logs as the finish
   * recorded them, as nothing of them is served any more. */
  readonly cleanupDeletesLogs?: boolean;
  /** Optional: deletes the run's outputs (its workspace and its jobs' logs), for rejected
   * results. Idempotent. */
  deleteOutputs?(workflowId: string): Promise<void>;
  /** Optional, where cleanup keeps the workspace and logs for the API (local runner):
   * removes the run entirely, results and logs included (retention). Idempotent. */
  purge?(workflowId: string): Promise<void>;
}

/**
 * A whole DAG at once, for backends that schedule it themselves (Argo Workflows). Each job
 * is its first attempt, with its own callback; `edges` are `from >> to` by job index.
 */
export interface RunLaunch {
  workflowId: string;
  jobs: JobLaunch[];
  edges: { from: number; to: number }[];
  /** Whole-run deadline. */
  timeoutSeconds: number;
}

/**
 * Optional capability (Argo): submit the run's DAG as one object and get one handle per
 * job (same order as `run.jobs`); each job then reports through its callback as usual and
 * `status`/`logs`/`cancel` take these handles. `launch` keeps working for later attempts.
 */
export interface DagComputeBackend extends ComputeBackend {
  launchRun(run: RunLaunch, volumes: ResolvedVolume[]): Promise<JobHandle[]>;
}

export const runsDags = (backend: ComputeBackend): backend is DagComputeBackend => typeof (backend as Partial<DagComputeBackend>).launchRun === 'function';

/** A job attempt that ended without its completion being delivered (its callback was lost
 * with a host that stopped or crashed while the job ran). */
export interface UnreportedExit {
  workflowId: string;
  jobName: string;
  attempt: number;
  handle: JobHandle;
  exitCode: number | null;
  startedAt?: string;
  endedAt?: string;
}

/**
 * Optional capability (local runner, whose jobs outlive the host): the exits no callback
 * delivered, so that a starting host hands them to their orchestrations at once instead
 * of leaving them to the next status poll. Cluster backends report from a watcher.
 */
export interface RecoversExits {
  unreportedExits(): Promise<UnreportedExit[]>;
  /** Records that the attempt's exit reached its orchestration (or no one waits for it). */
  markReported(handle: JobHandle): Promise<void>;
  /**
   * From now on, hands the exits this process sees to `deliver` instead of posting them to
   * the job callback over HTTP (a round trip from the host to itself); undefined goes back
   * to the callback. An exit `deliver` does not take (it resolves false or throws) still
   * goes to the callback, and one neither took stays unreported for the next scan.
   */
  deliverExitsTo(deliver: ExitDelivery | undefined): void;
}

/** Resolves true once the exit reached its orchestration, false when it has none here. */
export type ExitDelivery = (exit: Omit<UnreportedExit, 'handle'> & { message?: string }) => Promise<boolean>;

export const recoversExits = (backend: ComputeBackend): backend is ComputeBackend & RecoversExits =>
  typeof (backend as Partial<RecoversExits>).unreportedExits === 'function';
