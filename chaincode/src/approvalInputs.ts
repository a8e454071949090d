import { z } from 'zod';
import { datasetIdSchema, workflowIdSchema } from './inputs';

/** Arguments of the approval transactions, parsed once with `parseArg`. */

const hash = z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest');
const workflowId = workflowIdSchema;
const datasetIds = z
  .array(datasetIdSchema)
  .min(1)
  .max(100)
  .refine((ids) => new Set(ids).size === ids.length, 'must not repeat a dataset');

export const MAX_REASON_CHARS = 1000;

export const approvalRequestSchema = z.strictObject({ workflowId, datasetIds, specHash: hash, filesHash: hash });

export const approvalDecisionSchema = z.discriminatedUnion('decision', [
  z.strictObject({ decision: z.literal('approve'), comment: z.string().max(MAX_REASON_CHARS).optional(), reuse: z.boolean().optional() }),
  z.strictObject({ decision: z.literal('reject'), reason: z.string().trim().min(1).max(MAX_REASON_CHARS) }),
]);

export const approvalQuerySchema = z.strictObject({ state: z.enum(['pending', 'approved', 'rejected']).optional() });
