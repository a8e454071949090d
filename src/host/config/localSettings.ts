import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { HostConfigError } from './hostConfigError';
import { PARSED_ONCE } from '../../core/once';

const localSettingsSchema = z.object({
  IsEncrypted: z.boolean().optional(),
  Values: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});

/**
 * Copies `Values` of `<appDir>/local.settings.json` into `env` for every name not already
 * set, as Core Tools does: the environment wins. A missing file is fine. Returns the names
 * it set.
 */
export function applyLocalSettings(appDir: string, env: NodeJS.ProcessEnv): string[] {
  const file = join(appDir, 'local.settings.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new HostConfigError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let parsed: z.infer<typeof localSettingsSchema>;
  try {
    parsed = localSettingsSchema.parse(JSON.parse(text), PARSED_ONCE);
  } catch (err) {
    throw new HostConfigError(`${file} is not valid: ${(err as Error).message}`);
  }
  if (parsed.IsEncrypted) throw new HostConfigError(`${file} is encrypted; the embedded host reads only plain settings`);
  const applied: string[] = [];
  for (const [name, value] of Object.entries(parsed.Values ?? {})) {
    if (env[name] === undefined) {
      env[name] = String(value);
      applied.push(name);
    }
  }
  return applied;
}
