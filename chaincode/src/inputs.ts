import { z } from 'zod';
import { validationFailed } from './errors';

/** Transaction arguments arrive as strings from any client: each is parsed here, once. */

export const ID_PATTERN = /^[A-Za-z0-9_-]{8,128}$/;
const WORKFLOW_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
const MAX_TTL_SECONDS = 365 * 24 * 3600;

const datasetId = z.string().regex(ID_PATTERN, 'must match [A-Za-z0-9_-]{8,128}');
const name = z.string().trim().min(1).max(200);
const description = z.string().max(4000);

const policy = z
  .strictObject({
    leaseTtlSeconds: z.number().int().min(1).max(MAX_TTL_SECONDS),
    maxLeaseTtlSeconds: z.number().int().min(1).max(MAX_TTL_SECONDS),
    approval: z.enum(['required', 'none']).optional(),
    results: z.enum(['release', 'review']).optional(),
    maxResultBytes: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
  })
  .refine((p) => p.maxLeaseTtlSeconds >= p.leaseTtlSeconds, {
    message: 'maxLeaseTtlSeconds must be at least leaseTtlSeconds',
    path: ['maxLeaseTtlSeconds'],
  });

export const newDatasetSchema = z.strictObject({
  id: datasetId,
  name,
  description,
  policy,
  storageKind: z.enum(['local', 'azure-files']),
  sealedLocation: z
    .string()
    .min(1)
    .max(16384)
    .regex(/^[A-Za-z0-9_=+/.:-]+$/, 'must be an encoded ciphertext'),
  contentHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest')
    .optional(),
});

/** A new content version: the number the owner's platform wrote it under (the one after the
 * current, so two racing pushes cannot both pass) and its content hash. */
export const datasetContentSchema = z.strictObject({
  version: z.number().int().min(2).max(Number.MAX_SAFE_INTEGER),
  contentHash: z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest'),
});

export const datasetPatchSchema = z
  .strictObject({ name: name.optional(), description: description.optional(), policy: policy.optional() })
  .refine((p) => p.name !== undefined || p.description !== undefined || p.policy !== undefined, {
    message: 'a patch must change name, description or policy',
  });

export const datasetQuerySchema = z.strictObject({
  owner: z.string().min(1).max(128).optional(),
  state: z.enum(['leased', 'free']).optional(),
  includeDeleted: z.boolean().optional(),
  pageSize: z.number().int().min(1).max(1000),
  cursor: z.string().min(1).max(400).optional(),
});

export const workflowLaunchSchema = z.strictObject({
  workflowId: z.string().regex(WORKFLOW_ID_PATTERN),
  datasetIds: z
    .array(datasetId)
    .min(1, 'a workflow mounts at least one dataset')
    .max(100)
    .refine((ids) => new Set(ids).size === ids.length, 'must not repeat a dataset'),
  specHash: z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest'),
  /** Needed when a mounted dataset requires its owner's approval (approvals.ts). */
  filesHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest')
    .optional(),
  /** What ran it, for the record (and the run's receipt): the compute backend and the images. */
  backend: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,39}$/)
    .optional(),
  images: z.array(z.string().min(1).max(300)).max(100).optional(),
});

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest');
const size = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** A job may leave many files; past this a run's manifest is refused (the app fails the run). */
export const MAX_OUTPUT_FILES = 10_000;

export const outputManifestSchema = z.strictObject({
  files: z
    .array(z.strictObject({ path: z.string().min(1).max(4096), size, sha256 }))
    .max(MAX_OUTPUT_FILES)
    .refine((files) => new Set(files.map((f) => f.path)).size === files.length, 'must not repeat a path'),
  logs: z
    .array(z.strictObject({ job: z.string().min(1).max(200), size, sha256 }))
    .max(1000)
    .refine((logs) => new Set(logs.map((l) => l.job)).size === logs.length, 'must not repeat a job'),
});

export const workflowFinishSchema = z.strictObject({
  workflowId: z.string().regex(WORKFLOW_ID_PATTERN),
  status: z.enum(['Succeeded', 'Failed', 'Canceled']),
  jobs: z.array(z.strictObject({ name: z.string().min(1).max(200), status: z.string().min(1).max(40), exitCode: z.number().int().nullable() })).max(1000),
  /** The run's outputs; a finish without them withholds the outputs of a reviewed or size-limited run. */
  outputs: outputManifestSchema.optional(),
});

export const resultsDecisionSchema = z.discriminatedUnion('decision', [
  z.strictObject({ decision: z.literal('release'), outputsSha256: sha256 }),
  z.strictObject({ decision: z.literal('reject'), outputsSha256: sha256, reason: z.string().trim().min(1).max(1000) }),
]);

export const workflowIdSchema = z.string().regex(WORKFLOW_ID_PATTERN);
export const datasetIdSchema = datasetId;
/** '' or '0' ask for the policy default. */
export const ttlSecondsSchema = z
  .string()
  .regex(/^\d{0,9}$/, 'must be a whole number of seconds')
  .transform((s) => (s === '' ? 0 : Number(s)));

/** Parses one argument; `json` arguments are JSON text first. Failures list every issue with its path. */
export function parseArg<S extends z.ZodType>(schema: S, raw: string, what: string, json = false): z.output<S> {
  let value: unknown = raw;
  if (json) {
    try {
      value = JSON.parse(raw);
    } catch {
      throw validationFailed(`${what} is not valid JSON`);
    }
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: [what, ...i.path.map(String)].join('.'), message: i.message }));
    throw validationFailed(`invalid ${what}`, { issues });
  }
  return parsed.data;
}
