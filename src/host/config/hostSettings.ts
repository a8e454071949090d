import { z } from 'zod';
import { HostConfigError } from './hostConfigError';
import { PARSED_ONCE } from '../../core/once';

/**
 * The settings the embedded host itself reads, from the same environment the app reads (filled
 * from local.settings.json `Values`). The host plays the Functions platform: it knows nothing of
 * the app's settings, which the app parses (and refuses) as it loads. Two names are read by
 * both, each for its own use: LEDGERFLOW_DATA_DIR (the host's queues, timers and durable state;
 * the app's embedded adapters) and LOG_LEVEL; test/unit/infra/settingsDrift.test.ts checks that
 * both schemas give them the same default.
 */
const positiveInt = z.coerce.number().int().positive();

export const hostSettingsSchema = z.object({
  /** One host per data directory (it holds a lock there). */
  LEDGERFLOW_DATA_DIR: z.string().min(1).default('./.ledgerflow'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** HTTP port (0 picks a free one) and listen address. */
  PORT: z.coerce.number().int().min(0).max(65535).default(7071),
  LEDGERFLOW_BIND_ADDRESS: z.string().min(1).default('127.0.0.1'),
  /** Largest accepted request body; larger ones get 413. */
  LEDGERFLOW_MAX_BODY_BYTES: positiveInt.default(10 * 1024 * 1024),
  /** How long shutdown waits for invocations in flight. */
  LEDGERFLOW_SHUTDOWN_TIMEOUT_MS: positiveInt.default(30_000),
  /** Refuse to start when a function has a binding the host cannot run (else those functions are
   * listed at start and answer 501). */
  LEDGERFLOW_STRICT_BINDINGS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});

export type HostSettings = z.infer<typeof hostSettingsSchema>;

/** The host's settings; a bad one stops start-up with one message naming it. */
export function parseHostSettings(env: NodeJS.ProcessEnv): HostSettings {
  const result = hostSettingsSchema.safeParse(env, PARSED_ONCE);
  if (result.success) return result.data;
  throw new HostConfigError(`invalid setting ${result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
}
