import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { settingsSchema } from '../../../src/config/settings';
import { hostSettingsSchema } from '../../../src/host/config/hostSettings';
import { appSettings, looksSecret, readBicep } from '../../helpers/bicep';
import { envReads, envReadsIn } from '../../helpers/envReads';
import { settingTypes } from '../../helpers/settingsSchema';

/**
 * The settings the app reads, the settings a developer is told about, and the settings
 * Azure is given must be the same list, so none can drift from the code silently.
 *
 * The rule for code: the app's settings are declared once, in src/config/settings.ts (the zod
 * schema, or a pattern read there such as KEY_VAULT_URL_<ORG>), and read through it; the
 * embedded host's, in src/host/config/hostSettings.ts. A literal
 * `process.env.X` / `env['X']` anywhere in src/, functions/ or orchestrators/ must name a
 * declared setting or a variable of the platform below; a computed `process.env[name]` is
 * refused. Exempt: src/config (the parser itself), src/host (the embedded host plays the
 * Functions platform and reads its variables), src/cli (a client: its environment is the
 * user's shell, not app settings).
 */

const root = resolve(__dirname, '..', '..', '..', '..');
const bicepPath = join(root, 'infra', 'azure', 'main.bicep');

/** Settings declared by a pattern (read by iterating the environment in src/config). */
const PATTERNS = [{ shown: 'KEY_VAULT_URL_<ORG>', prefix: 'KEY_VAULT_URL_' }] as const;

/** Variables the code may read that are not app settings: the OS's, the platform's, a library's. */
const PLATFORM_VARIABLES: Record<string, string> = {
  PATH: 'the OS: the local sandbox hands a minimal PATH to jobs',
  WEBSITE_HOSTNAME: 'set by Azure Functions (and the embedded host): the public host name jobs call back to',
  CORE_CHAINCODE_LOGGING_LEVEL: "fabric-shim's own log level, set by the in-process chaincode simulator",
  UV_THREADPOOL_SIZE: "libuv's thread pool size: the standalone peer sizes it to the cores unless it is set",
};

/** Keys of local.settings.sample.json that belong to the Functions runtime, not to the app. */
const RUNTIME_SAMPLE_KEYS = new Set(['FUNCTIONS_WORKER_RUNTIME', 'AzureWebJobsStorage']);

/** Bicep app settings that configure the Functions runtime itself, not the app. */
const RUNTIME_APP_SETTING = /^(AzureWebJobsStorage(__.+)?|APPLICATIONINSIGHTS_CONNECTION_STRING|APPLICATIONINSIGHTS_AUTHENTICATION_STRING)$/;

/**
 * Settings that only serve the embedded, one-machine mode, so main.bicep leaves them out
 * (their defaults are harmless on Azure, where nothing reads them).
 */
const LOCAL_ONLY: Record<string, string> = {
  PORT: 'embedded host: listening port (Azure Functions has its own front end)',
  LEDGERFLOW_BIND_ADDRESS: 'embedded host: listening address',
  LEDGERFLOW_MAX_BODY_BYTES: 'embedded host: request size limit (App Service has its own)',
  LEDGERFLOW_SHUTDOWN_TIMEOUT_MS: 'embedded host: graceful stop',
  LEDGERFLOW_STRICT_BINDINGS: 'embedded host: refuse functions with bindings it cannot run',
  LEDGER_BLOCK_MAX_TX: 'embedded Fabric peer: block cutting',
  LEDGER_BLOCK_TIMEOUT_MS: 'embedded Fabric peer: block cutting',
  LEDGER_ORGS: 'embedded Fabric peer: the channel organizations of a new ledger',
  LEDGER_ENDORSEMENT_POLICY: 'embedded Fabric peer: chaincode endorsement policy',
  LOCAL_DATASET_ROOTS: 'local storage: directories owners may register',
  LOCAL_SANDBOX: 'local compute: sandbox tool',
  LOCAL_JOB_MEMORY: 'local compute: memory limit',
  LOCAL_JOB_MAX_MEMORY: 'local compute: largest memory a spec may ask for',
  LOCAL_JOB_PIDS: 'local compute: processes per job',
  LOCAL_MAX_RUNNING_JOBS: 'local compute: jobs running at once',
  LOCAL_JOB_UID: 'local compute: the unprivileged uid jobs run as',
  LOCAL_JOB_GID: 'local compute: the unprivileged gid jobs run as',
  LOCAL_JOB_LOG_BYTES: 'local compute: log cap',
  LOCAL_JOB_DISK: 'local compute: workspace quota',
  K8S_LOCAL_DATASET_NODE: 'Kubernetes with local (non Azure Files) datasets: the node holding them',
};

const appKeys = Object.keys(settingsSchema.shape);
const hostKeys = Object.keys(hostSettingsSchema.shape);
const schemaKeys = [...new Set([...appKeys, ...hostKeys])];
const settingsSource = readFileSync(join(root, 'src', 'config', 'settings.ts'), 'utf8');
const sampleKeys = Object.keys((JSON.parse(readFileSync(join(root, 'local.settings.sample.json'), 'utf8')) as { Values: Record<string, string> }).Values);
const bicepSettings = appSettings(readBicep(bicepPath));
const bicepNames = bicepSettings.map((s) => s.name);

const patternOf = (name: string) => PATTERNS.find((p) => name.startsWith(p.prefix));
const declared = (name: string): boolean => schemaKeys.includes(name) || patternOf(name) !== undefined;
const problems = (list: string[]): string => `\n  ${list.join('\n  ')}`;

test('a setting both the host and the app read has one default', () => {
  const app = settingsSchema.parse({}) as Record<string, unknown>;
  const host = hostSettingsSchema.parse({}) as Record<string, unknown>;
  const shared = hostKeys.filter((k) => appKeys.includes(k));
  assert.deepEqual(shared.sort(), ['LEDGERFLOW_DATA_DIR', 'LOG_LEVEL']);
  for (const k of shared) assert.equal(host[k], app[k], k);
});

test('every pattern setting is read by src/config/settings.ts', () => {
  const missing = PATTERNS.filter((p) => !settingsSource.includes(p.prefix)).map(
    (p) => `${p.shown} is not read in src/config/settings.ts: drop it from PATTERNS or declare it`,
  );
  assert.deepEqual(missing, [], problems(missing));
});

test('the code reads no environment variable that src/config/settings.ts does not declare', () => {
  const reads = envReads(root, ['src', 'functions', 'orchestrators'], ['src/config', 'src/host', 'src/cli']);
  // The scan must see real reads, or it would pass by reading nothing.
  assert.ok(
    reads.some((r) => r.name === 'LOG_LEVEL'),
    'the scan no longer finds LOG_LEVEL in src/observability/logger.ts',
  );
  const bad = reads
    .filter((r) => r.name === undefined || !(declared(r.name) || r.name in PLATFORM_VARIABLES))
    .map((r) => `${r.file}:${r.line} reads ${r.name ?? 'a computed name'}: declare it in src/config/settings.ts and read it through settings()`);
  assert.deepEqual(bad, [], problems(bad));
});

test('every setting is documented in local.settings.sample.json, and the sample documents nothing else', () => {
  const undocumented = schemaKeys.filter((k) => !sampleKeys.includes(k)).map((k) => `${k} is missing from local.settings.sample.json Values`);
  const patterns = PATTERNS.filter((p) => !sampleKeys.some((k) => k.startsWith(p.prefix))).map(
    (p) => `no example of ${p.shown} in local.settings.sample.json Values`,
  );
  const stale = sampleKeys
    .filter((k) => !declared(k) && !RUNTIME_SAMPLE_KEYS.has(k))
    .map((k) => `local.settings.sample.json sets ${k}, which src/config/settings.ts does not declare`);
  const all = [...undocumented, ...patterns, ...stale];
  assert.deepEqual(all, [], problems(all));
});

test('main.bicep sets every setting but the local-only ones, and nothing the code does not read', () => {
  const unset = schemaKeys
    .filter((k) => !bicepNames.includes(k) && !(k in LOCAL_ONLY))
    .map((k) => `${k} is not set in infra/azure/main.bicep appSettings (or listed in LOCAL_ONLY with why)`);
  const patterns = PATTERNS.filter((p) => !bicepNames.includes(`${p.prefix}*`)).map(
    (p) => `infra/azure/main.bicep sets no ${p.shown} (expected a generated name '${p.prefix}\${...}')`,
  );
  const stale = bicepNames
    .filter((n) => !declared(n) && !RUNTIME_APP_SETTING.test(n))
    .map((n) => `infra/azure/main.bicep sets ${n}, which src/config/settings.ts does not declare`);
  const localInBicep = bicepNames.filter((n) => n in LOCAL_ONLY).map((n) => `${n} is LOCAL_ONLY but infra/azure/main.bicep sets it`);
  const staleLocal = Object.keys(LOCAL_ONLY)
    .filter((k) => !schemaKeys.includes(k))
    .map((k) => `LOCAL_ONLY lists ${k}, which src/config/settings.ts does not declare`);
  const duplicates = bicepNames.filter((n, i) => bicepNames.indexOf(n) !== i).map((n) => `infra/azure/main.bicep sets ${n} twice`);
  const all = [...unset, ...patterns, ...stale, ...localInBicep, ...staleLocal, ...duplicates];
  assert.deepEqual(all, [], problems(all));
});

test('main.bicep gives no secret-looking setting a clear value: empty, an identity, or a Key Vault reference', () => {
  // An enum's value is one of its choices, never a secret. The Application Insights
  // connection string only addresses the resource once local authentication is off
  // (bicepPolicy.test.ts checks DisableLocalAuth).
  const types = settingTypes();
  const clear = bicepSettings
    .filter((s) => looksSecret(s.name) && types.get(s.name) !== 'enum' && s.name !== 'APPLICATIONINSIGHTS_CONNECTION_STRING')
    .filter((s) => !(s.value === "''" || s.value === "'managedidentity'" || s.value.startsWith("'@Microsoft.KeyVault(")))
    .map((s) => `${s.name} = ${s.value}: put the secret in Key Vault and use @Microsoft.KeyVault(SecretUri=...)`);
  assert.deepEqual(clear, [], problems(clear));
});

test('the environment scan sees literal, bracketed, parameter and computed reads', () => {
  const text = 'const a = process.env.FOO;\nconst b = process.env[\'BAR\'];\nconst c = env["BAZ"];\nconst d = process.env[name];\nconst e = env.lower;\n';
  assert.deepEqual(
    envReadsIn('x.ts', text).map((r) => [r.line, r.name]),
    [
      [1, 'FOO'],
      [2, 'BAR'],
      [3, 'BAZ'],
      [4, undefined],
    ],
  );
});
