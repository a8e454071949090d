import { z } from 'zod';
import { DURATION_SYNTAX, durationSeconds } from '../core/duration';
import { LedgerflowError } from '../core/errors';
import { memoryBytes as quantityBytes } from '../core/workflow/quantity';
import { principalOrgMapSchema, tokensSchema } from '../core/auth/credentials';
import { PARSED_ONCE } from '../core/once';

/**
 * Every app setting the code reads, parsed once at start from the environment (which the
 * embedded host fills from local.settings.json `Values`, and Azure from Function App
 * settings). Each has a default that serves one machine. A bad value fails start-up with
 * one message naming the setting. Keep local.settings.sample.json and infra/azure in step:
 * a test checks that every key here is documented there.
 */
const positiveInt = z.coerce.number().int().positive();
/** A memory or disk size as Kubernetes writes it (4Gi, 512Mi, 1G), more than zero. */
const byteQuantity = z
  .string()
  .regex(/^[0-9]+(\.[0-9]+)?(k|M|G|T|Ki|Mi|Gi|Ti)?$/, 'must be a quantity like 4Gi')
  .refine((q) => Number(/^[0-9.]+/.exec(q)?.[0]) > 0, 'must be more than zero');
/** A host uid or gid for jobs: never root, never the overflow id 65534 (nobody). */
const hostId = z.coerce
  .number()
  .int()
  .min(1, 'must not be 0 (root)')
  .max(2 ** 31 - 1)
  .refine((id) => id !== 65534, 'must not be 65534 (nobody)');

/** A duration in the one syntax of src/core/duration.ts (`30d`, `12h`, `15m`, `45s`), or `0`
 * for never; read with `durationMs`. (Kept as text: the embedded host hands parsed settings
 * back to the environment.) */
const duration = z.string().refine((value) => durationSeconds(value) !== undefined, `must be ${DURATION_SYNTAX}, or 0`);

/** A duration setting (checked at start) in milliseconds; 0 for `0`. */
export function durationMs(value: string): number {
  return (durationSeconds(value) ?? 0) * 1000;
}

/** A setting holding JSON (or empty): checked at start, read with `jsonSetting`. */
function jsonString<T extends z.ZodType>(schema: T, options: { keysAreSecret?: boolean } = {}) {
  return z
    .string()
    .default('')
    .superRefine((value, ctx) => {
      if (value.trim() === '') return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be JSON' });
        return;
      }
      for (const issue of schema.safeParse(parsed).error?.issues ?? []) {
        // Name the offending entry, but never echo a value, nor a key that is itself a secret.
        const path = (options.keysAreSecret === true ? ['<token>', ...issue.path.slice(1)] : issue.path).map(String).join('.');
        ctx.addIssue({ code: 'custom', message: `${issue.path.length > 0 ? `entry ${path}: ` : ''}${issue.message}` });
      }
    });
}

/** Parses a JSON setting already checked by `jsonString`; empty means `empty`. */
export function jsonSetting<T extends z.ZodType>(value: string, schema: T, empty: z.infer<T>): z.infer<T> {
  return value.trim() === '' ? empty : schema.parse(JSON.parse(value));
}

/** Per organization since the roots of one organization must never serve another. */
export const datasetRootsSchema = z.record(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/), z.array(z.string().regex(/^\/[^\0]*$/)));
const DATASET_ROOTS_FORM =
  'must be JSON {"<org>": ["<absolute dir>", ...]}, e.g. {"uis": ["/srv/data/uis"]} (the old colon-separated list is no longer accepted: write each directory under the organization that may adopt from it)';

/** LOCAL_DATASET_ROOTS, parsed (checked at start). */
export function datasetRoots(s: Settings): Record<string, string[]> {
  return jsonSetting(s.LOCAL_DATASET_ROOTS, datasetRootsSchema, {});
}

const VAULT_URL_SETTING = /^KEY_VAULT_URL_([A-Z0-9_]+)$/;
const vaultUrl = z.url({ protocol: /^https$/ });

/** Key Vault per organization, from settings `KEY_VAULT_URL_<ORG>` (org upper-cased, `-` as
 * `_`), e.g. KEY_VAULT_URL_UIS=https://ledgerflow-uis.vault.azure.net/. Checked at start. */
export function keyVaultUrls(env: NodeJS.ProcessEnv): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    const match = VAULT_URL_SETTING.exec(name);
    if (match !== null && value !== undefined && value !== '') urls[match[1]!.toLowerCase().replace(/_/g, '-')] = value;
  }
  return urls;
}

export const settingsSchema = z.object({
  LEDGERFLOW_DATA_DIR: z.string().min(1).default('./.ledgerflow'),
  LEDGER: z.enum(['embedded', 'fabric']).default('embedded'),
  /** Fabric Gateway endpoint (host:port). Empty: the host starts the embedded peer. */
  FABRIC_PEER_ENDPOINT: z.string().default(''),
  /** Path of the peer's TLS root CA (PEM). Empty: plaintext, for a loopback peer only. */
  FABRIC_TLS_ROOT_CERT: z.string().default(''),
  /** TLS server name to expect when it differs from the endpoint's host. */
  FABRIC_TLS_SERVER_NAME: z.string().default(''),
  FABRIC_CHANNEL: z.string().min(1).default('ledgerflow'),
  FABRIC_CHAINCODE: z.string().min(1).default('ledgerflow'),
  /** Identities as `<dir>/<org>/users/<user>/{cert.pem,key.pem}`; required with LEDGER=fabric.
   * Empty with LEDGER=embedded: the embedded peer's CAs (`<data dir>/ledger/msp`) issue them on demand. */
  FABRIC_IDENTITY_DIR: z.string().default(''),
  /** JSON {"<org>": "<MSP id>"} for organizations whose MSP id is not the derived one (uis -> UisMSP). */
  FABRIC_MSP_IDS: z
    .string()
    .default('')
    .transform((text, ctx) => {
      if (text === '') return {};
      const parsed = z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/), z.string().min(1)).safeParse(safeJson(text));
      if (parsed.success) return parsed.data;
      ctx.addIssue({ code: 'custom', message: 'must be JSON {"<org>": "<MSP id>"}' });
      return z.NEVER;
    }),
  /** `user@org`: the identity the app reads chaincode events and expires leases as. Its
   * certificate must carry the Fabric CA attribute `ledgerflow.role=platform` (the local CA
   * issues it so; infra/fabric/README.md for Fabric CA). */
  FABRIC_SERVICE_IDENTITY: z
    .string()
    .regex(/^[A-Za-z0-9._-]+@[a-z0-9][a-z0-9-]*$/, 'must be user@org')
    .default('ledgerflow@uis'),
  /** Embedded peer: cut a block at this many transactions, or this long after its first. */
  LEDGER_BLOCK_MAX_TX: positiveInt.default(500),
  LEDGER_BLOCK_TIMEOUT_MS: positiveInt.default(2),
  /** Embedded peer: the channel's organizations when its ledger is created, comma separated
   * (with the organizations LEDGERFLOW_TOKENS and AUTH_PRINCIPAL_ORGS name and the platform's);
   * later ones join with `ledgerflow ledger add-org`. */
  LEDGER_ORGS: z
    .string()
    .default('')
    .refine((v) => v.trim() === '' || v.split(',').every((o) => /^[a-z0-9][a-z0-9-]{0,62}$/.test(o.trim())), 'must be organization names separated by commas'),
  /** Embedded peer: the chaincode endorsement policy, `MAJORITY Endorsement` (Fabric's default),
   * `ANY Endorsement`, `ALL Endorsement`, or a signature policy like `AND('UisMSP.member','UioMSP.member')`. */
  LEDGER_ENDORSEMENT_POLICY: z.string().default('MAJORITY Endorsement'),
  KEY_STORE: z.enum(['file', 'keyvault']).default('file'),
  STORAGE: z.enum(['local', 'azure-files']).default('local'),
  COMPUTE: z.enum(['local', 'kubernetes', 'argo']).default('local'),
  /** JSON: {"<token>": {"user": "alice", "org": "uis"}}. Empty: only App Service auth. */
  LEDGERFLOW_TOKENS: jsonString(tokensSchema, { keysAreSecret: true }),
  /** JSON: {"tid:<tenant id>" | "group:<object id>" | "role:<app role>": "<org>"}. Non-empty:
   * trust App Service authentication (x-ms-client-principal); empty or {}: bearer tokens only.
   * (Key Vault URLs are per organization: KEY_VAULT_URL_<ORG>, see keyVaultUrls.) */
  AUTH_PRINCIPAL_ORGS: jsonString(principalOrgMapSchema),
  /** JSON {"<org>": ["<absolute dir>", ...]}: the directories under which each organization's
   * owners may register existing local data (`source: {kind: 'local', path}`); empty: only
   * uploads. Nothing that is, contains or lies inside the data dir is ever adopted. */
  LOCAL_DATASET_ROOTS: z
    .string()
    .default('')
    .superRefine((text, ctx) => {
      if (text.trim() !== '' && !datasetRootsSchema.safeParse(safeJson(text)).success) ctx.addIssue({ code: 'custom', message: DATASET_ROOTS_FORM });
    }),
  /** Platform Azure Files account for uploads when STORAGE=azure-files, e.g.
   * https://<account>.file.core.windows.net, and its SAS token or account key; an empty
   * credential means the app's managed identity (DefaultAzureCredential). */
  AZURE_FILES_ACCOUNT_URL: z.string().default(''),
  AZURE_FILES_CREDENTIAL: z.string().default(''),
  /** Let owners adopt shares on loopback, link-local or private addresses (private
   * endpoints, Azurite). Off by default: adoption would otherwise probe the host's network. */
  AZURE_FILES_ALLOW_PRIVATE: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** Where the run index lives (docs/workflows.md, "Listing"): `sqlite`, a file in the data
   * dir (one machine, the embedded host); `table`, an Azure Table shared by every instance of
   * a scaled-out Function App, at RUN_INDEX_TABLE_URL through the app's managed identity. */
  RUN_INDEX: z.enum(['sqlite', 'table']).default('sqlite'),
  /** The table endpoint of the Function App's own storage account (AzureWebJobsStorage), e.g.
   * https://<account>.table.core.windows.net. */
  RUN_INDEX_TABLE_URL: z.string().default(''),
  RUN_INDEX_TABLE_NAME: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, 'must be 3 to 63 letters and digits, starting with a letter')
    .default('ledgerflowruns'),
  LEASE_DEFAULT_TTL: positiveInt.default(3600),
  /** NCRONTAB, six fields with seconds. */
  LEASE_EXPIRY_SCHEDULE: z.string().default('0 * * * * *'),
  /** Local compute isolation: `auto` prefers bubblewrap and falls back to util-linux unshare. */
  LOCAL_SANDBOX: z.enum(['auto', 'bwrap', 'unshare']).default('auto'),
  /** Local compute: memory limit of a job whose spec names no memory (Kubernetes quantity). */
  LOCAL_JOB_MEMORY: byteQuantity.default('4Gi'),
  /** Local compute, host running as root: the unprivileged host uid and gid every job runs as
   * (no account should use them). A host that is not root runs jobs as itself. */
  LOCAL_JOB_UID: hostId.default(61000),
  LOCAL_JOB_GID: hostId.default(61000),
  /** Local compute: the largest `resources.memory` a spec may ask for (larger: 400). */
  LOCAL_JOB_MAX_MEMORY: byteQuantity.default('8Gi'),
  /** Local compute: processes a job may run at once (pids.max of its cgroup). */
  LOCAL_JOB_PIDS: positiveInt.default(512),
  /** Local compute: jobs running at once on this host; more wait Pending. Empty: 2 x cores. */
  LOCAL_MAX_RUNNING_JOBS: z.union([z.literal(''), positiveInt]).default(''),
  /** Local compute: a job's log keeps at most this many bytes of its output, then a marker. */
  LOCAL_JOB_LOG_BYTES: positiveInt.default(16 * 1024 * 1024),
  /** Local compute: what a run's workspace may hold (also the largest file a job may write). */
  LOCAL_JOB_DISK: byteQuantity.default('10Gi'),
  /** Kubernetes / Argo compute (COMPUTE=kubernetes|argo). K8S_KUBECONFIG is a file path or
   * the kubeconfig itself; empty: $KUBECONFIG, ~/.kube/config, then in-cluster. */
  K8S_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
    .default('ledgerflow'),
  K8S_KUBECONFIG: z.string().default(''),
  K8S_CONTEXT: z.string().default(''),
  /** Storage class of each run's workspace claim; empty: the cluster default. */
  K8S_WORKSPACE_STORAGE_CLASS: z.string().default(''),
  K8S_WORKSPACE_SIZE: z
    .string()
    .regex(/^[0-9]+(Ki|Mi|Gi|Ti)$/)
    .default('1Gi'),
  /** ReadWriteMany lets parallel jobs of a run share the workspace across nodes. */
  K8S_WORKSPACE_ACCESS_MODE: z.enum(['ReadWriteMany', 'ReadWriteOnce']).default('ReadWriteMany'),
  /** Node that holds `local` datasets (a `local` PV pinned to it); empty: hostPath (one-node cluster). */
  K8S_LOCAL_DATASET_NODE: z.string().default(''),
  K8S_RUN_AS_USER: positiveInt.default(1000),
  K8S_JOB_TTL_SECONDS: positiveInt.default(3600),
  /** Image of the Argo exit hook that reports a job's completion (needs /bin/sh and curl). */
  K8S_NOTIFIER_IMAGE: z.string().min(1).default('curlimages/curl:8.11.1'),
  /** Image of the short-lived pods that read a result file out of a run's workspace and list it for the output manifest (needs sh, base64, find, stat, sha256sum, head, tr: busybox has them). */
  K8S_READER_IMAGE: z.string().min(1).default('busybox:1.37'),
  /** Service account of the Argo executor (wait container); jobs themselves get no token. */
  K8S_ARGO_EXECUTOR_SERVICE_ACCOUNT: z.string().default('ledgerflow-argo-executor'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Which host runs the app: the embedded host sets `embedded` itself; Azure Functions and
   * `func start` leave the default. Only reported by /api/health (with the durable backend it
   * implies); no function behaves differently on it. */
  LEDGERFLOW_HOST: z.enum(['embedded', 'azure-functions']).default('azure-functions'),
  /** Workflows: the image of a job whose spec names none (the local runner ignores images). */
  WORKFLOW_DEFAULT_IMAGE: z.string().min(1).default('python:3.12-slim'),
  /** Workflows: a job's timeout in seconds when its spec names none. */
  WORKFLOW_DEFAULT_JOB_TIMEOUT: positiveInt.default(3600),
  /** Workflows: how often a job's orchestrator asks the backend, in case a completion callback is lost. */
  WORKFLOW_STATUS_POLL_SECONDS: positiveInt.default(30),
  /** Workflows: extra seconds past a job's timeout before its orchestrator gives up on it. */
  WORKFLOW_COMPLETION_GRACE_SECONDS: positiveInt.default(60),
  /** Workflows: how often a run's orchestrator wakes on its own to notice a job orchestration that ended without reporting. */
  WORKFLOW_WATCHDOG_SECONDS: positiveInt.default(300),
  /** Workflows: finished runs older than this (counted from their end) are purged: workspace,
   * logs, every durable instance, queue rows and index row; the ledger keeps their records.
   * `0` keeps everything. */
  WORKFLOW_RETENTION: duration.default('30d'),
  /** NCRONTAB of the purge timer (six fields with seconds); default hourly. */
  PURGE_SCHEDULE: z.string().default('0 0 * * * *'),
  /** Base URL at which jobs reach this app's job callback (`<url>/api/callbacks/jobs`); empty:
   * derived from WEBSITE_HOSTNAME, which Azure Functions and the embedded host set. */
  LEDGERFLOW_PUBLIC_URL: z.string().default(''),
});

export type Settings = z.infer<typeof settingsSchema>;

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Settings that only make sense together (an adapter choice and its connection settings). */
function crossCheck(s: Settings, env: NodeJS.ProcessEnv): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (VAULT_URL_SETTING.test(name) && value !== undefined && value !== '' && !vaultUrl.safeParse(value).success) {
      problems.push({ path: name, message: 'must be an https URL' });
    }
  }
  if (s.KEY_STORE === 'keyvault' && Object.keys(keyVaultUrls(env)).length === 0) {
    problems.push({ path: 'KEY_VAULT_URL_<ORG>', message: 'at least one is required when KEY_STORE=keyvault' });
  }
  if (quantityBytes(s.LOCAL_JOB_MEMORY) > quantityBytes(s.LOCAL_JOB_MAX_MEMORY)) {
    problems.push({ path: 'LOCAL_JOB_MEMORY', message: 'must not exceed LOCAL_JOB_MAX_MEMORY' });
  }
  if (s.STORAGE === 'azure-files' && !/^https:\/\/[^/?#]+\/?$/.test(s.AZURE_FILES_ACCOUNT_URL)) {
    problems.push({ path: 'AZURE_FILES_ACCOUNT_URL', message: 'must be https://<account>.file.core.windows.net when STORAGE=azure-files' });
  }
  if (s.RUN_INDEX === 'table' && !/^https:\/\/[^/?#]+\/?$/.test(s.RUN_INDEX_TABLE_URL)) {
    problems.push({ path: 'RUN_INDEX_TABLE_URL', message: 'must be https://<account>.table.core.windows.net when RUN_INDEX=table' });
  }
  return problems;
}

export function parseSettings(env: NodeJS.ProcessEnv): Settings {
  const result = settingsSchema.safeParse(env, PARSED_ONCE);
  const details = result.success
    ? crossCheck(result.data, env)
    : result.error.issues.map((issue) => ({
        path: issue.path.join('.'),
        message: issue.message,
      }));
  if (result.success && details.length === 0) return result.data;
  const names = details.map((d) => `${d.path}: ${d.message}`).join('; ');
  throw new LedgerflowError('validation_failed', `invalid setting ${names}`, { details });
}

let cached: Settings | undefined;
/** The process's settings, parsed on first use. */
export function settings(): Settings {
  cached ??= parseSettings(process.env);
  return cached;
}

/**
 * Run as the app loads (functions/appSettings.ts): a bad setting stops the worker or the
 * embedded host there, with one message naming it, and every plain setting's default is
 * written to the environment, so binding expressions (`%LEASE_EXPIRY_SCHEDULE%`) resolve
 * where no settings file names them. On Azure, main.bicep sets each such setting.
 */
export function loadAppSettings(): Settings {
  const parsed = settings();
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') process.env[name] ??= String(value);
  }
  return parsed;
}
