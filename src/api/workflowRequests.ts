import { z } from 'zod';
import { WORKFLOW_STATUSES } from '../core/model';
import { LedgerflowError } from '../core/errors';
import { relativePathProblem } from '../core/relativePath';
import { MAX_SPEC_BYTES } from '../core/workflow/spec';
import type { WorkflowOptions } from '../core/workflow/run';

/**
 * The workflow API's request shapes, validated once at the edge. File paths are checked
 * with the one relative-path rule (src/core/relativePath.ts); the compute backend checks
 * them again where it writes them.
 */
const relativePath = z.string().superRefine((p, ctx) => {
  const problem = relativePathProblem(p);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `path ${problem}` });
});

const options = z.object({ releaseLeases: z.boolean().default(false) }).strict();

export const submitBodySchema = z
  .object({
    workflow: z.string().min(1).max(MAX_SPEC_BYTES),
    files: z.record(relativePath, z.string()).default({}),
    options: options.default({ releaseLeases: false }),
  })
  .strict();

export const listQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().min(1).optional(),
    status: z.enum(WORKFLOW_STATUSES).optional(),
  })
  .strict();

/** GET /workflows/{id}/jobs/{job}/logs: `tail` asks for the last lines only. */
export const logQuerySchema = z
  .object({
    tail: z.coerce.number().int().min(1).max(100_000).optional().meta({
      description: 'only the last this many lines (looking back at most 1 MiB); answered as 206 with Content-Range, so a reader can follow on from its end',
    }),
  })
  .strict();

export const filePathSchema = relativePath;

/** A submission as POST /workflows received it, before the spec is parsed. */
export interface Submission {
  source: string;
  files: Record<string, string>;
  options: WorkflowOptions;
}

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml', 'text/plain'];

/** POST /workflows accepts `{workflow, files, options}` as JSON, or the YAML alone. */
export function submissionOf(contentType: string | null, text: string, query: URLSearchParams): Submission {
  const type = (contentType ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  if (YAML_TYPES.includes(type)) {
    return { source: text, files: {}, options: { releaseLeases: query.get('releaseLeases') === 'true' } };
  }
  if (type !== 'application/json') {
    throw new LedgerflowError('unsupported_media_type', 'send application/json ({workflow, files}) or application/yaml');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new LedgerflowError('bad_request', 'the request body is not valid JSON');
  }
  const result = submitBodySchema.safeParse(json);
  if (!result.success) {
    throw new LedgerflowError('validation_failed', 'the request body is not valid', {
      details: result.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message })),
    });
  }
  return { source: result.data.workflow, files: result.data.files, options: result.data.options };
}
