import { z } from 'zod';
import { filePathSchema } from './workflowRequests';

/** The approval API's inputs, validated once at the edge (src/api/routes.ts publishes them). */

export const MAX_DECISION_TEXT = 1000;

export const approvalParams = z.object({ workflowId: z.string().min(1).max(128) });
export const approvalFileParams = z.object({ workflowId: approvalParams.shape.workflowId, path: filePathSchema });

export const approvalListQuery = z
  .object({
    state: z.enum(['pending', 'approved', 'rejected']).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().min(1).max(1024).optional(),
  })
  .strict();

/** No body approves without comment or reuse. */
export const approveBody = z
  .object({
    comment: z.string().max(MAX_DECISION_TEXT).optional(),
    reuse: z
      .boolean()
      .default(false)
      .meta({ description: 'also let later runs with the same spec hash and files hash, by the same holder under the same lease, start without asking' }),
  })
  .strict()
  .default({ reuse: false });

/** A rejection's body; one instance per route, so each route's OpenAPI body is its own
 * component. */
const reasonBody = () =>
  z
    .object({
      reason: z.string().trim().min(1).max(MAX_DECISION_TEXT),
    })
    .strict();

export const rejectBody = reasonBody();
/** POST /workflows/{id}/results/reject. */
export const resultsRejectBody = reasonBody();
