import type { WorkflowStatus } from '../core/model';

/**
 * The app's own index of workflow runs: who submitted each (organization, user), when, the
 * datasets it mounts and its status. The durable backend's instance store is the engine's,
 * not ours to index (on Azure Storage a query by organization is a full scan of the
 * Instances table), so listing, lease-end cancels and retention read this instead and touch
 * a run's durable state only for the rows they use. A row is written before its run starts.
 */
export interface RunIndexEntry {
  id: string;
  org: string;
  user: string;
  /** ISO-8601; the order runs are listed in (newest first), with `id` breaking ties. */
  createdAt: string;
  status: WorkflowStatus;
  datasetIds: string[];
  /** ISO-8601: when the index learned that the run ended; retention counts from it. */
  finishedAt?: string;
  /** The run's final view as the API shows it (JSON), kept once its orchestration ended, so
   * a listing of finished runs reads nothing else. Opaque here; the app parses it. */
  finalView?: string;
}

/** A position in an organization's listing: the last row shown. */
export interface RunIndexPosition {
  createdAt: string;
  id: string;
}

export interface RunIndex {
  /** Adds a run; a repeat (a retried submit) keeps the stored row. */
  add(entry: Omit<RunIndexEntry, 'finishedAt' | 'finalView'>): Promise<void>;
  get(id: string): Promise<RunIndexEntry | undefined>;
  /** Moves a run to `status`. A finished status is final: a late or replayed write of an
   * unfinished one (an activity retried after the run ended) changes nothing. */
  setStatus(id: string, status: WorkflowStatus, at: Date): Promise<void>;
  /** Keeps the final view of a run whose orchestration has ended (and marks it finished). */
  saveFinalView(id: string, status: WorkflowStatus, at: Date, view: string): Promise<void>;
  /** One organization's runs, newest first, strictly after `after`. */
  page(org: string, query: { limit: number; status?: WorkflowStatus; after?: RunIndexPosition }): Promise<RunIndexEntry[]>;
  /** Runs not known to have finished that mount the dataset. */
  unfinishedOn(datasetId: string): Promise<RunIndexEntry[]>;
  /** Finished runs whose end is before `cutoff`, oldest first. */
  finishedBefore(cutoff: Date, limit: number): Promise<RunIndexEntry[]>;
  /** Runs not known to have finished and created before `cutoff` (candidates to check
   * against the durable state: an orchestration that crashed never reported its end). */
  unfinishedBefore(cutoff: Date, limit: number): Promise<RunIndexEntry[]>;
  remove(id: string): Promise<void>;
  /** Whether runs from before the index existed have been added (a one-time pass). */
  backfilled(): Promise<boolean>;
  markBackfilled(): Promise<void>;
  /** Gives back the space of removed rows (after a retention pass). */
  compact(): Promise<void>;
  close(): Promise<void>;
}
