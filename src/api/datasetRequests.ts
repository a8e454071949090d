import { z } from 'zod';
import { DATASET_ID, DATASET_ID_RULE, ORG_NAME } from '../core/names';
import { fileMapProblems } from '../core/relativePath';
import { shareUrlProblems } from '../core/datasets/shareUrl';

/**
 * The dataset and lease API's inputs, validated once at the edge. Every problem is reported
 * at once, each with its path; no message echoes a submitted value (a credential may be one).
 */
const MAX_TTL = 366 * 86_400;
const ttl = z.number().int().positive().max(MAX_TTL);
// No control characters: a name reaches terminals (the CLI) and logs.
export const displayName = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .regex(/^\P{Cc}*$/u, 'must not contain control characters');
const description = z.string().max(4000);

const policy = z
  .object({
    leaseTtlSeconds: ttl.optional(),
    maxLeaseTtlSeconds: ttl.optional(),
    /** `required` (the default): a lessee's run waits for the owner's approval of its exact
     * spec and files; `none`: the owner opts out. */
    approval: z.enum(['required', 'none']).optional(),
    /** `release` (the default): a run's outputs go to its requester when it ends; `review`:
     * they are withheld until the owner releases them. */
    results: z.enum(['release', 'review']).optional(),
    /** The most bytes a run's outputs may take together; null removes the limit. */
    maxResultBytes: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).nullable().optional(),
  })
  .strict();

const source = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('local'), path: z.string().min(1).max(4096) }).strict(),
  z.object({ kind: z.literal('azure-files'), shareUrl: z.string().min(1).max(2048), credential: z.string().min(1).max(4096) }).strict(),
]);

export const registerBody = z
  .object({
    name: displayName,
    description: description.optional(),
    policy: policy.optional(),
    source: source.optional(),
    files: z.record(z.string(), z.string()).optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    for (const problem of fileMapProblems(body.files ?? {})) ctx.addIssue({ code: 'custom', path: [problem.path], message: problem.message });
    if (body.source?.kind === 'azure-files') {
      for (const problem of shareUrlProblems(body.source.shareUrl, 'source.shareUrl'))
        ctx.addIssue({ code: 'custom', path: [problem.path], message: problem.message });
    }
  });

export const updateBody = z
  .object({
    name: displayName.optional(),
    description: description.optional(),
    policy: policy.optional(),
  })
  .strict()
  .refine((b) => b.name !== undefined || b.description !== undefined || b.policy !== undefined, { message: 'name, description or policy is required' });

/** PUT /datasets/{id}/files: a new version. Every bad path is reported with its path. */
export const pushBody = z
  .object({
    files: z.record(z.string(), z.string()),
    /** true: the files given become the whole content; false (the default): they are added
     * to (or replace files of) the current version. */
    replace: z.boolean().default(false),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (Object.keys(body.files).length === 0 && !body.replace) ctx.addIssue({ code: 'custom', path: ['files'], message: 'must name at least one file' });
    for (const problem of fileMapProblems(body.files)) ctx.addIssue({ code: 'custom', path: [problem.path], message: problem.message });
  });

/** The lease body is optional: no body takes the dataset's default lease length. */
export const leaseBody = z.object({ ttlSeconds: ttl.optional() }).strict().optional();

export const datasetIdParam = z.string().regex(DATASET_ID, DATASET_ID_RULE);

export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().min(1).max(1024).optional(),
  owner: z.string().regex(ORG_NAME, 'must be an organization name').optional(),
  state: z.enum(['leased', 'free']).optional(),
});

export const treeQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  cursor: z.string().min(1).max(64).optional(),
});

export type RegisterBody = z.output<typeof registerBody>;
