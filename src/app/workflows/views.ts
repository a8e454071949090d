import { z } from 'zod';
import { WORKFLOW_STATUSES, type Caller, type JobStatus, type WorkflowStatus } from '../../core/model';
import { initialJobStates, type JobState, type RunApproval, type WorkflowRunStatus } from '../../core/workflow/run';
import type { WorkflowSpec } from '../../core/workflow/spec';
import type { RunRecord } from './runControl';

/** A run as GET /workflows/{id} shows it. */
export interface WorkflowView {
  id: string;
  status: WorkflowStatus;
  createdAt: string;
  updatedAt: string;
  message?: string;
  /** The owners' decisions the run waits or waited for. */
  approvals?: RunApproval[];
  /** From the launch: the content version of each mounted dataset the run reads. */
  datasetVersions?: Record<string, number>;
  jobs: {
    index: number;
    name: string;
    status: JobStatus;
    exitCode: number | null;
    startedAt: string | null;
    endedAt: string | null;
    attempts: number;
    message?: string;
  }[];
}

/** What a run record tells about its owner and progress. The durable store is ours, but
 * its JSON is read back untyped, so it is checked once here. */
const callerSchema = z.object({ user: z.string(), org: z.string() });
const inputSchema = z.object({
  workflowId: z.string(),
  caller: callerSchema,
  spec: z.custom<WorkflowSpec>((v) => typeof v === 'object' && v !== null && Array.isArray((v as { jobs?: unknown }).jobs)),
  approvalDatasetIds: z.array(z.string()).optional(),
});
const statusSchema = z.object({
  status: z.enum(WORKFLOW_STATUSES),
  submittedBy: callerSchema,
  datasetIds: z.array(z.string()),
  jobs: z.array(z.custom<JobState>((v) => typeof v === 'object' && v !== null)),
  message: z.string().optional(),
  approvals: z.array(z.object({ datasetId: z.string(), owner: z.string(), state: z.enum(['pending', 'approved', 'rejected']) })).optional(),
  datasetVersions: z.record(z.string(), z.number()).optional(),
});

export interface RunFacts {
  owner: Caller;
  datasetIds: string[];
  /** Whether the run starts by waiting for owners' approvals (from its input). */
  awaitsApproval: boolean;
  status: WorkflowRunStatus | undefined;
  spec: WorkflowSpec | undefined;
}

/** undefined when the record is not a workflow run (or carries neither input nor status). */
export function factsOf(record: RunRecord): RunFacts | undefined {
  const status = statusSchema.safeParse(record.customStatus);
  const input = inputSchema.safeParse(record.input);
  if (status.success) {
    return {
      owner: status.data.submittedBy,
      datasetIds: status.data.datasetIds,
      status: status.data as WorkflowRunStatus,
      spec: input.success ? input.data.spec : undefined,
      awaitsApproval: status.data.approvals !== undefined,
    };
  }
  if (input.success) {
    const ids = [...new Set(input.data.spec.jobs.flatMap((j) => j.volumes.map((v) => v.id)))];
    return {
      owner: input.data.caller,
      datasetIds: ids,
      status: undefined,
      spec: input.data.spec,
      awaitsApproval: (input.data.approvalDatasetIds ?? []).length > 0,
    };
  }
  return undefined;
}

/** Same organization as the submitter: a run is visible to, and may be canceled by, the
 * members of the organization that submitted it (the organization holds the leases). */
export function visibleTo(facts: RunFacts, caller: Caller): boolean {
  return facts.owner.org === caller.org;
}

const ENDED: Record<string, WorkflowStatus | undefined> = { Failed: 'Failed', Terminated: 'Canceled', Canceled: 'Canceled' };

export function viewOf(record: RunRecord, facts: RunFacts): WorkflowView {
  const jobs = facts.status?.jobs ?? (facts.spec === undefined ? [] : initialJobStates(facts.spec));
  // An orchestration that crashed or was terminated never wrote its final status.
  // Before its first step the run has published nothing: its input says whether it waits.
  const status = ENDED[record.runtimeStatus] ?? facts.status?.status ?? (facts.awaitsApproval ? 'AwaitingApproval' : 'Pending');
  const message = facts.status?.message;
  const edges = facts.spec?.edges;
  return {
    id: record.instanceId,
    status,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    ...(message !== undefined && { message }),
    ...(facts.status?.approvals !== undefined && { approvals: facts.status.approvals }),
    ...(facts.status?.datasetVersions !== undefined && { datasetVersions: facts.status.datasetVersions }),
    jobs: jobs.map((j) => ({
      index: j.index,
      name: j.name,
      status: j.status,
      exitCode: j.exitCode,
      startedAt: j.startedAt,
      endedAt: j.endedAt,
      attempts: j.attempts,
      ...(j.message !== undefined && { message: j.message }),
      ...(edges !== undefined && { dependsOn: edges.filter((e) => e.to === j.index).map((e) => e.from) }),
    })),
  };
}
