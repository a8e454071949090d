import { z } from 'zod';
import type { CleanupMessage } from '../core/workflow/run';

/**
 * The messages that cross a process boundary other than the HTTP API's requests: the job
 * completion report (compute backends -> POST /api/callbacks/jobs) and the cleanup queue
 * of the workflow side. One schema each, parsed on arrival; senders build the typed value
 * declared here, so sender and receiver cannot drift apart.
 */

/** Queue names and the app setting naming their connection (the same on Azure and locally). */
export const QUEUES = { cleanup: 'workflow-cleanup' } as const;
export const QUEUE_CONNECTION = 'AzureWebJobsStorage';

/** What a compute backend posts when a job ends (local runner, Kubernetes watcher, Argo exit hook). */
export const completionReportSchema = z.object({
  workflowId: z.string().min(1).max(200),
  jobName: z.string().min(1).max(200),
  attempt: z.number().int().positive(),
  exitCode: z.number().int().nullable(),
  startedAt: z.iso.datetime({ offset: true }).optional(),
  endedAt: z.iso.datetime({ offset: true }).optional(),
  /** Why the backend ended the job, when it did (a limit); shown in the run's status. */
  message: z.string().max(500).optional(),
});
export type CompletionReport = z.infer<typeof completionReportSchema>;

const callerSchema = z.object({ user: z.string().min(1), org: z.string().min(1) });

/** On QUEUES.cleanup, from the run's `requestCleanup` activity when the run has finished. */
export const cleanupMessageSchema = z.object({
  workflowId: z.string().min(1),
  caller: callerSchema,
  status: z.enum(['Succeeded', 'Failed', 'Canceled', 'Rejected']),
  datasetIds: z.array(z.string()),
  releaseLeases: z.boolean(),
  launched: z.boolean().optional(),
  deleteOutputs: z.boolean().optional(),
}) satisfies z.ZodType<CleanupMessage>;
