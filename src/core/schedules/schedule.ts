import type { Caller } from '../model';

/**
 * A schedule: a workflow its creator's organization runs on an NCRONTAB schedule or on each
 * new version of a dataset. It lives as one eternal orchestration (instance id = schedule
 * id) whose input carries this state through every continue-as-new, so it is as durable as
 * the durable store and needs nothing else on Azure. The workflow and its code files are no
 * secrets (the owners review the same on approval); nothing here may carry one.
 */
export type Overlap = 'skip' | 'allow';

export interface ScheduleOptions {
  /** skip (the default): a tick while the previous run has not ended records a skip; allow: it runs anyway. */
  overlap: Overlap;
  /** Release the run's leases once it is cleaned up (as POST /workflows options). */
  releaseLeases: boolean;
}

export interface ScheduleDefinition {
  id: string;
  name: string;
  creator: Caller;
  /** The workflow YAML, as POST /workflows takes it. */
  workflow: string;
  files: Record<string, string>;
  /** Six-field NCRONTAB (UTC); exactly one of `schedule` and `trigger`. */
  schedule?: string;
  trigger?: { datasetUpdated: string };
  enabled: boolean;
  options: ScheduleOptions;
  createdAt: string;
}

/** One tick (a time, or a dataset version) and what came of it. */
export interface ScheduleRun {
  /** The run it submitted; null when the tick could not run (see reason). */
  workflowId: string | null;
  /** The run's status when last looked at, or Skipped / Missed. */
  status: string;
  submittedAt: string;
  /** For a time schedule: the tick's time (each tick is recorded once). */
  tick?: string;
  /** For a data trigger: the dataset version the tick is for. */
  version?: number;
  /** Why the tick could not run, or why its run waits. */
  reason?: string;
}

export interface ScheduleState {
  definition: ScheduleDefinition;
  /** Newest first, at most MAX_RECORDED_RUNS. */
  runs: ScheduleRun[];
  /** The last tick handled (time schedules): the next is the first occurrence after it. */
  lastTick?: string;
  /** The last dataset version handled (data triggers). */
  lastVersion?: number;
  /** The last control request applied (PATCH waits for it). */
  lastControl?: string;
}

export const MAX_RECORDED_RUNS = 100;

/** A change sent to the schedule's orchestration (PATCH, DELETE), named so PATCH can tell when it was applied. */
export type ScheduleControl = { id: string; op: 'patch'; enabled?: boolean; schedule?: string; name?: string } | { id: string; op: 'delete' };

/** A new version of a watched dataset, delivered from the ledger's DatasetContentUpdated event. */
export interface DatasetUpdated {
  datasetId: string;
  version: number;
}

export const SCHEDULE_EVENTS = { control: 'schedule-control', datasetUpdated: 'dataset-updated' } as const;

export const SCHEDULE_ORCHESTRATOR = 'scheduleOrchestrator';

/** Schedule ids are their orchestrations' instance ids: a prefix, the creator's organization, random hex. */
export const SCHEDULE_ID = /^sched-[a-z0-9-]{1,63}-[0-9a-f]{32}$/;
export const scheduleIdFor = (org: string, random: string): string => `sched-${org}-${random}`;

/** The run a tick submits: derived from the schedule and the tick, so a tick repeated after
 * a crash finds its run instead of submitting another (at most once per tick). */
export function tickWorkflowId(scheduleId: string, tick: { at: string } | { version: number }): string {
  return 'at' in tick ? `${scheduleId}-t${Date.parse(tick.at)}` : `${scheduleId}-v${tick.version}`;
}

/** Adds a run, newest first, keeping the most recent MAX_RECORDED_RUNS. */
export function withRun(runs: readonly ScheduleRun[], run: ScheduleRun): ScheduleRun[] {
  return [run, ...runs].slice(0, MAX_RECORDED_RUNS);
}

/** What the schedule's orchestration publishes as its custom status: the state without the code files. */
export type PublishedSchedule = Omit<ScheduleState, 'definition'> & { definition: Omit<ScheduleDefinition, 'files'> & { fileCount: number } };

export function publishedOf(state: ScheduleState): PublishedSchedule {
  const { files, ...definition } = state.definition;
  return { ...state, definition: { ...definition, fileCount: Object.keys(files).length } };
}
