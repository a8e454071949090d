import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { LedgerflowError, type ErrorDetail } from '../errors';
import { DATASET_ID_RULE, isDatasetId } from '../names';
import { JobGraph } from './dag';
import { joinWrappedQuotedScalars } from './wrappedScalars';
import { mountPathProblem, mountPathsOverlap } from './paths';
import { DURATION_SYNTAX, durationSeconds } from '../duration';
import { CPU_QUANTITY, MEMORY_QUANTITY } from './quantity';

/**
 * `workflow.yaml`: a superset of the JupyterFlow format the thesis extends. `jobs` items are
 * a command string or `{command, volumes: [{id, name, path}], ...}`; `dags` lists edges
 * `1 >> 2` (chains `1 >> 2 >> 3`, job names instead of numbers). Every problem is
 * reported at once, each located by a path (`jobs[2].volumes[0].path`, `dags[1]`).
 *
 * Dataset ids: ids never contain whitespace, so all of it is removed. The thesis listings
 * (extracted from a PDF) break 64-hex ids across lines (`id: '6\n  de22e8... '`), which
 * YAML folds into `'6 de22e8... '`; stripping restores the id.
 */

export interface VolumeSpec {
  id: string;
  name: string;
  path: string;
}

export interface JobSpec {
  index: number; // 1-based, as in `dags`
  name: string; // given, or `job-<index>`
  command: string; // run by /bin/sh -c in the workspace
  image?: string;
  env: Record<string, string>;
  volumes: VolumeSpec[];
  resources: { cpu?: string; memory?: string };
  timeoutSeconds?: number;
  retries: number;
}

export interface WorkflowSpec {
  image?: string;
  timeoutSeconds?: number;
  jobs: JobSpec[];
  edges: { from: number; to: number }[]; // 1-based indexes
}

export const MAX_SPEC_BYTES = 1024 * 1024;
export const MAX_JOBS = 500;
export const MAX_RETRIES = 10;
export const MAX_TIMEOUT_SECONDS = 7 * 24 * 3600;
const MAX_SYNTAX_ERRORS = 20;

const JOB_NAME = /^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const nonBlank = z.string({ error: 'must be a string' }).trim().min(1, 'must not be empty');

const duration = z.union([z.number(), z.string()], { error: `must be ${DURATION_SYNTAX}` }).transform((value, ctx) => {
  const seconds = durationSeconds(value);
  if (seconds === undefined || seconds <= 0 || seconds > MAX_TIMEOUT_SECONDS) {
    ctx.addIssue({ code: 'custom', message: `must be ${DURATION_SYNTAX} (at most ${MAX_TIMEOUT_SECONDS / 86_400}d)` });
    return z.NEVER;
  }
  return seconds;
});

const quantity = (pattern: RegExp, example: string) =>
  z
    .union([z.string(), z.number()], { error: `must be a quantity like ${example}` })
    .transform(String)
    .pipe(
      z
        .string()
        .regex(pattern, { error: `must be a quantity like ${example}`, abort: true })
        // Zero would read as "no limit" to some backends: a job always has some.
        .refine((q) => Number(/^[0-9.]+/.exec(q)?.[0] ?? 0) > 0, 'must be more than zero'),
    );

const volumeSchema = z.strictObject(
  {
    id: z
      .string({ error: 'must be a string (quote it)' })
      .transform((id) => id.replace(/\s+/g, ''))
      .superRefine((id, ctx) => {
        if (id === '') ctx.addIssue({ code: 'custom', message: 'must not be empty' });
        else if (!isDatasetId(id)) ctx.addIssue({ code: 'custom', message: DATASET_ID_RULE });
      }),
    name: nonBlank,
    path: z.string({ error: 'must be a string' }).superRefine((path, ctx) => {
      const problem = mountPathProblem(path);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  },
  { error: 'must be a mapping {id, name, path}' },
);

const jobObjectSchema = z.strictObject({
  command: nonBlank.max(65536),
  name: z
    .string({ error: 'must be a string' })
    .regex(JOB_NAME, 'must be lower-case letters, digits and -, start with a letter and end with a letter or digit, at most 40 characters')
    .optional(),
  image: nonBlank.optional(),
  env: z
    .record(
      z.string().regex(ENV_NAME, 'must be an environment variable name'),
      z.union([z.string(), z.number(), z.boolean()], { error: 'must be a string' }).transform(String),
      { error: 'must be a mapping of names to values' },
    )
    .optional(),
  volumes: z.array(volumeSchema, { error: 'must be a list of volumes' }).nullish(),
  resources: z
    .strictObject(
      { cpu: quantity(CPU_QUANTITY, '500m or 2').optional(), memory: quantity(MEMORY_QUANTITY, '512Mi or 1Gi').optional() },
      { error: 'must be a mapping {cpu, memory}' },
    )
    .optional(),
  timeout: duration.optional(),
  retries: z.int({ error: 'must be a whole number' }).min(0, 'must be at least 0').max(MAX_RETRIES, `must be at most ${MAX_RETRIES}`).optional(),
});

const TOP_LEVEL_KEYS = ['jobs', 'dags', 'image', 'timeout'] as const;

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc === '' ? String(key) : `${acc}.${String(key)}`), '');
}

/** Collects problems in document order, each with its path. */
class Problems {
  readonly details: ErrorDetail[] = [];

  add(path: string, message: string): void {
    this.details.push({ path, message });
  }

  /** Parses `value` with `schema`, recording every issue under `path`. */
  parse<T>(schema: z.ZodType<T>, value: unknown, path: readonly PropertyKey[]): T | undefined {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      const at = [...path, ...issue.path];
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) this.add(formatPath([...at, key]), 'unknown key');
      } else {
        this.add(formatPath(at), issue.message);
      }
    }
    return undefined;
  }
}

function loadYaml(source: string, problems: Problems): unknown {
  const parse = (text: string) => {
    const lineCounter = new LineCounter();
    // logLevel 'error': the library's warnings (collection keys stringified) are not ours to print.
    return { doc: parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, logLevel: 'error' }), lineCounter };
  };
  let parsed = parse(source);
  if (parsed.doc.errors.some((e) => e.code === 'MISSING_CHAR')) {
    const retry = parse(joinWrappedQuotedScalars(source));
    if (retry.doc.errors.length === 0) parsed = retry;
  }
  const { doc, lineCounter } = parsed;
  // The first few: one syntax error often cascades into hundreds.
  for (const error of doc.errors.slice(0, MAX_SYNTAX_ERRORS)) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    problems.add('', `YAML syntax error at line ${line}, column ${col}: ${error.message.split('\n')[0]}`);
  }
  if (doc.errors.length > MAX_SYNTAX_ERRORS) problems.add('', `and ${doc.errors.length - MAX_SYNTAX_ERRORS} more YAML syntax errors`);
  if (doc.errors.length > 0) return undefined;
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    problems.add('', `YAML could not be read: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

type ParsedJob = z.infer<typeof jobObjectSchema>;

function parseJob(raw: unknown, i: number, problems: Problems): ParsedJob | undefined {
  if (typeof raw === 'string') return problems.parse(jobObjectSchema, { command: raw }, ['jobs', i]);
  if (!isMapping(raw)) {
    problems.add(`jobs[${i}]`, 'must be a command string or a mapping with a command');
    return undefined;
  }
  const job = problems.parse(jobObjectSchema, raw, ['jobs', i]);
  const volumes = Array.isArray(raw['volumes']) ? raw['volumes'] : [];
  const validPath = (volume: unknown) => {
    const path = isMapping(volume) ? volume['path'] : undefined;
    return typeof path === 'string' && !mountPathProblem(path) ? path : undefined;
  };
  volumes.forEach((volume, k) => {
    const path = validPath(volume);
    if (path === undefined) return;
    const earlier = volumes.slice(0, k).findIndex((v) => {
      const other = validPath(v);
      return other !== undefined && mountPathsOverlap(other, path);
    });
    if (earlier >= 0) problems.add(`jobs[${i}].volumes[${k}].path`, `overlaps jobs[${i}].volumes[${earlier}].path`);
  });
  return job;
}

/** The name each job answers to in `dags`: its own (if it is a string) or `job-<index>`. */
function namesOf(rawJobs: readonly unknown[], problems: Problems): string[] {
  const names = rawJobs.map((raw, i) => (isMapping(raw) && typeof raw['name'] === 'string' ? raw['name'] : `job-${i + 1}`));
  const first = new Map<string, number>();
  names.forEach((name, i) => {
    const seen = first.get(name);
    if (seen === undefined) first.set(name, i);
    else {
      const explicit = isMapping(rawJobs[i]) && typeof (rawJobs[i] as Record<string, unknown>)['name'] === 'string';
      problems.add(explicit ? `jobs[${i}].name` : `jobs[${i}]`, `duplicate job name ${name} (also jobs[${seen}])`);
    }
  });
  return names;
}

function parseEdges(rawDags: readonly unknown[], names: readonly string[], problems: Problems): { from: number; to: number }[] {
  const byName = new Map(names.map((name, i) => [name, i + 1] as const));
  const edges = new Map<string, { from: number; to: number }>();
  rawDags.forEach((raw, k) => {
    const path = `dags[${k}]`;
    if (typeof raw !== 'string') {
      problems.add(path, 'must be a dependency like `1 >> 2`');
      return;
    }
    const tokens = raw.split('>>').map((t) => t.trim());
    if (tokens.length < 2 || tokens.some((t) => t === '')) {
      problems.add(path, 'must be a dependency like `1 >> 2` (or a chain `1 >> 2 >> 3`)');
      return;
    }
    const nodes = tokens.map((token) => {
      const index = /^[0-9]+$/.test(token) ? Number(token) : byName.get(token);
      const known = index !== undefined && index >= 1 && index <= names.length;
      if (!known) problems.add(path, `unknown job ${token} (jobs are 1..${names.length} or their names)`);
      return known ? index : undefined;
    });
    for (let n = 0; n + 1 < nodes.length; n++) {
      const from = nodes[n];
      const to = nodes[n + 1];
      if (from !== undefined && to !== undefined) edges.set(`${from}>${to}`, { from, to });
    }
  });
  return [...edges.values()].sort((a, b) => a.from - b.from || a.to - b.to);
}

function toJobSpec(job: ParsedJob, index: number, name: string): JobSpec {
  const resources: JobSpec['resources'] = {};
  if (job.resources?.cpu !== undefined) resources.cpu = job.resources.cpu;
  if (job.resources?.memory !== undefined) resources.memory = job.resources.memory;
  const spec: JobSpec = {
    index,
    name,
    command: job.command,
    env: job.env ?? {},
    volumes: job.volumes ?? [],
    resources,
    retries: job.retries ?? 0,
  };
  if (job.image !== undefined) spec.image = job.image;
  if (job.timeout !== undefined) spec.timeoutSeconds = job.timeout;
  return spec;
}

/** Parses and validates a workflow.yaml. Throws LedgerflowError('validation_failed') whose
 * `details` lists every problem with its path. */
export function parseWorkflowSpec(source: string): WorkflowSpec {
  const problems = new Problems();
  const fail = () => {
    const summary = problems.details
      .slice(0, 5)
      .map((d) => (d.path ? `${d.path}: ${d.message}` : d.message))
      .join('; ');
    const more = problems.details.length > 5 ? ` (and ${problems.details.length - 5} more)` : '';
    return new LedgerflowError('validation_failed', `invalid workflow spec: ${summary}${more}`, { details: problems.details });
  };
  if (typeof source !== 'string') {
    problems.add('', 'must be YAML text');
    throw fail();
  }
  // TextEncoder, not Buffer: the web console validates specs with this parser in the browser.
  if (new TextEncoder().encode(source).length > MAX_SPEC_BYTES) {
    problems.add('', `must be at most ${MAX_SPEC_BYTES} bytes`);
    throw fail();
  }
  const doc = loadYaml(source, problems);
  if (problems.details.length > 0) throw fail();
  if (!isMapping(doc)) {
    problems.add('', 'must be a mapping with `jobs` (and `dags`)');
    throw fail();
  }
  for (const key of Object.keys(doc)) {
    if (!(TOP_LEVEL_KEYS as readonly string[]).includes(key)) problems.add(formatPath([key]), 'unknown key');
  }
  const image = doc['image'] === undefined ? undefined : problems.parse(nonBlank, doc['image'], ['image']);
  const timeout = doc['timeout'] === undefined ? undefined : problems.parse(duration, doc['timeout'], ['timeout']);

  const rawJobs = doc['jobs'];
  if (!Array.isArray(rawJobs) || rawJobs.length === 0) {
    problems.add('jobs', 'must be a list of at least one job');
  } else if (rawJobs.length > MAX_JOBS) {
    problems.add('jobs', `must list at most ${MAX_JOBS} jobs`);
  }
  const jobList = Array.isArray(rawJobs) && rawJobs.length <= MAX_JOBS ? rawJobs : [];
  const parsedJobs = jobList.map((raw, i) => parseJob(raw, i, problems));
  const names = namesOf(jobList, problems);

  const rawDags = doc['dags'] ?? [];
  let edges: { from: number; to: number }[] = [];
  if (!Array.isArray(rawDags)) problems.add('dags', 'must be a list of dependencies like `1 >> 2`');
  else if (jobList.length > 0) edges = parseEdges(rawDags, names, problems);

  for (const cycle of new JobGraph(jobList.length, edges).cycles()) {
    problems.add('dags', `cycle: ${cycle.map((j) => names[j - 1]).join(' >> ')}`);
  }
  if (problems.details.length > 0) throw fail();

  const spec: WorkflowSpec = {
    jobs: parsedJobs.map((job, i) => toJobSpec(job!, i + 1, names[i]!)),
    edges,
  };
  if (image !== undefined) spec.image = image;
  if (timeout !== undefined) spec.timeoutSeconds = timeout;
  return spec;
}

/** Every dataset the workflow mounts, once each, in order of first use. */
export function datasetIdsOf(spec: WorkflowSpec): string[] {
  return [...new Set(spec.jobs.flatMap((job) => job.volumes.map((v) => v.id)))];
}

/** The image a job runs in on a cluster backend: its own, else the workflow's, else the platform default. */
export function imageOf(spec: WorkflowSpec, job: JobSpec, defaultImage: string): string {
  return job.image ?? spec.image ?? defaultImage;
}
