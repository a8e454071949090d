import type { Caller } from '../../../src/core/model';
import type { JobSpec, WorkflowSpec } from '../../../src/core/workflow/spec';
import type { JobInput, WorkflowInput } from '../../../src/core/workflow/run';

export const alice: Caller = { user: 'alice', org: 'uis' };

/** The dataset every fixture job mounts: a run that mounts none is not recorded on the ledger. */
export const DATASET = { id: 'ds-uis', name: 'uis', path: '/home/jovyan/uis' };

export function job(index: number, overrides: Partial<JobSpec> = {}): JobSpec {
  return { index, name: `job-${index}`, command: `echo ${index}`, env: {}, volumes: [DATASET], resources: {}, retries: 0, ...overrides };
}

export function spec(jobs: JobSpec[], edges: [number, number][], extra: Partial<WorkflowSpec> = {}): WorkflowSpec {
  return { jobs, edges: edges.map(([from, to]) => ({ from, to })), ...extra };
}

export const timing = {
  statusPollSeconds: 30,
  completionGraceSeconds: 60,
  watchdogSeconds: 300,
  defaultJobTimeoutSeconds: 600,
  defaultImage: 'python:3.12-slim',
};

export function workflowInput(s: WorkflowSpec, releaseLeases = false, approvalDatasetIds: string[] = []): WorkflowInput {
  return {
    workflowId: 'wf-1',
    caller: alice,
    spec: s,
    filesHash: 'f'.repeat(64),
    approvalDatasetIds,
    review: { workflow: 'jobs: []', files: [] },
    options: { releaseLeases },
    timing,
  };
}

export function jobInput(j: JobSpec, timeoutSeconds = 600): JobInput {
  return {
    workflowId: 'wf-1',
    caller: alice,
    job: j,
    image: 'python:3.12-slim',
    timeoutSeconds,
    timing: { statusPollSeconds: timing.statusPollSeconds, completionGraceSeconds: timing.completionGraceSeconds },
  };
}
