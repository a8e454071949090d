import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { CliError, EXIT, usageError } from './exitCodes';

/**
 * Where the CLI sends requests and with which token. Each value comes from the first of:
 * flag (`--endpoint`, `--token`), environment (`LEDGERFLOW_ENDPOINT`, `LEDGERFLOW_TOKEN`),
 * the config file (`$LEDGERFLOW_CONFIG`, else `$XDG_CONFIG_HOME/ledgerflow/config.json`,
 * else `~/.config/ledgerflow/config.json`), the default.
 */
export const DEFAULT_ENDPOINT = 'http://127.0.0.1:7071/api';

export const CONFIG_KEYS = ['endpoint', 'token'] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];

const endpointSchema = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as http://127.0.0.1:7071/api' });
const fileSchema = z.object({ endpoint: endpointSchema.optional(), token: z.string().min(1).optional() });
export type ConfigFile = z.output<typeof fileSchema>;

export interface ResolvedConfig {
  endpoint: string;
  token: string | undefined;
  /** Where each value came from, for `config show`. */
  sources: Record<ConfigKey, 'flag' | 'env' | 'file' | 'default' | 'unset'>;
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['LEDGERFLOW_CONFIG'];
  if (explicit !== undefined && explicit !== '') return explicit;
  const base = env['XDG_CONFIG_HOME'] !== undefined && env['XDG_CONFIG_HOME'] !== '' ? env['XDG_CONFIG_HOME'] : join(homedir(), '.config');
  return join(base, 'ledgerflow', 'config.json');
}

export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(EXIT.usage, 'config', `cannot read ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(EXIT.usage, 'config', `${path} is not valid JSON`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    throw new CliError(EXIT.usage, 'config', `${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

/** Writes the file atomically with mode 0600: it may hold a token. */
export function writeConfigFile(path: string, config: ConfigFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export function setConfigValue(path: string, key: string, value: string | undefined): ConfigFile {
  if (!(CONFIG_KEYS as readonly string[]).includes(key)) throw usageError(`unknown config key "${key}" (known: ${CONFIG_KEYS.join(', ')})`);
  const current = readConfigFile(path);
  const next: ConfigFile = { ...current };
  if (value === undefined) delete next[key as ConfigKey];
  else if (key === 'endpoint') next.endpoint = checkEndpoint(value);
  else next.token = value;
  writeConfigFile(path, next);
  return next;
}

function checkEndpoint(value: string): string {
  const parsed = endpointSchema.safeParse(value);
  if (!parsed.success) throw usageError(`endpoint ${parsed.error.issues[0]?.message ?? 'is not valid'}`);
  return value.replace(/\/+$/, '');
}

export function resolveConfig(flags: { endpoint?: string | undefined; token?: string | undefined }, env: NodeJS.ProcessEnv = process.env): ResolvedConfig {
  const file = readConfigFile(configPath(env));
  const pick = (flag: string | undefined, envName: string, fromFile: string | undefined) => {
    if (flag !== undefined && flag !== '') return { value: flag, source: 'flag' as const };
    const e = env[envName];
    if (e !== undefined && e !== '') return { value: e, source: 'env' as const };
    if (fromFile !== undefined) return { value: fromFile, source: 'file' as const };
    return undefined;
  };
  const endpoint = pick(flags.endpoint, 'LEDGERFLOW_ENDPOINT', file.endpoint);
  const token = pick(flags.token, 'LEDGERFLOW_TOKEN', file.token);
  return {
    endpoint: endpoint === undefined ? DEFAULT_ENDPOINT : checkEndpoint(endpoint.value),
    token: token?.value,
    sources: { endpoint: endpoint?.source ?? 'default', token: token?.source ?? 'unset' },
  };
}
