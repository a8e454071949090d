import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseTimeSpan } from '../wire/duration';
import { HostConfigError } from './hostConfigError';
import { PARSED_ONCE } from '../../core/once';

const timeSpan = z.string().transform((text, ctx) => {
  const ms = parseTimeSpan(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a TimeSpan (hh:mm:ss)` });
    return z.NEVER;
  }
  return ms;
});

/** The parts of host.json the embedded host itself uses; other sections (durableTask, ...)
 * stay in `extensions` for the extension that owns them to parse. */
const hostJsonSchema = z.looseObject({
  version: z.string().optional(),
  functionTimeout: timeSpan.optional(),
  extensions: z
    .looseObject({
      http: z.looseObject({ routePrefix: z.string().default('api') }).default({ routePrefix: 'api' }),
      queues: z
        .looseObject({
          maxDequeueCount: z.number().int().positive().default(5),
          visibilityTimeout: timeSpan.default(0),
          batchSize: z.number().int().min(1).max(32).default(16),
          newBatchThreshold: z.number().int().min(0).optional(),
          /** The Functions default is one minute; locally a shorter ceiling keeps cleanup prompt. */
          maxPollingInterval: timeSpan.default(2000),
        })
        .default({ maxDequeueCount: 5, visibilityTimeout: 0, batchSize: 16, maxPollingInterval: 2000 }),
    })
    .default({
      http: { routePrefix: 'api' },
      queues: { maxDequeueCount: 5, visibilityTimeout: 0, batchSize: 16, maxPollingInterval: 2000 },
    }),
});

export type HostJson = z.infer<typeof hostJsonSchema>;

export function parseHostJson(value: unknown, source = 'host.json'): HostJson {
  const result = hostJsonSchema.safeParse(value, PARSED_ONCE);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  throw new HostConfigError(`${source} is not valid: ${issues}`);
}

/** Reads `<appDir>/host.json`; a missing file means all defaults. */
export function readHostJson(appDir: string): HostJson {
  const file = join(appDir, 'host.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return parseHostJson({});
    throw new HostConfigError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new HostConfigError(`${file} is not JSON: ${(err as Error).message}`);
  }
  return parseHostJson(json, file);
}
