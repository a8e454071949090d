import { z } from 'zod';
import { LedgerflowError } from '../core/errors';

/**
 * Every app setting the code reads, parsed once at start from the environment (which the
 * embedded host fills from local.settings.json `Values`, and Azure from Function App
 * settings). Each has a default that serves one machine. A bad value fails start-up with
 * one message naming the setting. Keep local.settings.sample.json and infra/azure in step:
 * a test checks that every key here is documented there.
 */
const positiveInt = z.coerce.number().int().positive();

export const settingsSchema = z.object({
  LEDGERFLOW_DATA_DIR: z.string().min(1).default('./.ledgerflow'),
  LEDGER: z.enum(['embedded', 'fabric']).default('embedded'),
  KEY_STORE: z.enum(['file', 'keyvault']).default('file'),
  STORAGE: z.enum(['local', 'azure-files']).default('local'),
  COMPUTE: z.enum(['local', 'kubernetes', 'argo']).default('local'),
  /** JSON: {"<token>": {"user": "alice", "org": "uis"}}. Empty: only App Service auth. */
  LEDGERFLOW_TOKENS: z.string().default(''),
  LEASE_DEFAULT_TTL: positiveInt.default(3600),
  /** NCRONTAB, six fields with seconds. */
  LEASE_EXPIRY_SCHEDULE: z.string().default('0 * * * * *'),
  /** Kubernetes / Argo compute (COMPUTE=kubernetes|argo). K8S_KUBECONFIG is a file path or
   * the kubeconfig itself; empty: $KUBECONFIG, ~/.kube/config, then in-cluster. */
  K8S_NAMESPACE: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).default('ledgerflow'),
  K8S_KUBECONFIG: z.string().default(''),
  K8S_CONTEXT: z.string().default(''),
  /** Storage class of each run's workspace claim; empty: the cluster default. */
  K8S_WORKSPACE_STORAGE_CLASS: z.string().default(''),
  K8S_WORKSPACE_SIZE: z.string().regex(/^[0-9]+(Ki|Mi|Gi|Ti)$/).default('1Gi'),
  /** ReadWriteMany lets parallel jobs of a run share the workspace across nodes. */
  K8S_WORKSPACE_ACCESS_MODE: z.enum(['ReadWriteMany', 'ReadWriteOnce']).default('ReadWriteMany'),
  /** Node that holds `local` datasets (a `local` PV pinned to it); empty: hostPath (one-node cluster). */
  K8S_LOCAL_DATASET_NODE: z.string().default(''),
  K8S_RUN_AS_USER: positiveInt.default(1000),
  K8S_JOB_TTL_SECONDS: positiveInt.default(3600),
  /** Image of the Argo exit hook that reports a job's completion (needs /bin/sh and curl). */
  K8S_NOTIFIER_IMAGE: z.string().min(1).default('curlimages/curl:8.11.1'),
  /** Image of the short-lived pod that reads a result file out of a run's workspace (needs sh and base64). */
  K8S_READER_IMAGE: z.string().min(1).default('busybox:1.37'),
  /** Service account of the Argo executor (wait container); jobs themselves get no token. */
  K8S_ARGO_EXECUTOR_SERVICE_ACCOUNT: z.string().default('ledgerflow-argo-executor'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Embedded host: HTTP port (0 picks a free one) and listen address. */
  PORT: z.coerce.number().int().min(0).max(65535).default(7071),
  LEDGERFLOW_BIND_ADDRESS: z.string().min(1).default('127.0.0.1'),
  /** Embedded host: largest accepted request body; larger ones get 413. */
  LEDGERFLOW_MAX_BODY_BYTES: positiveInt.default(10 * 1024 * 1024),
  /** Embedded host: how long shutdown waits for invocations in flight. */
  LEDGERFLOW_SHUTDOWN_TIMEOUT_MS: positiveInt.default(30_000),
  /** Which host runs the app: the embedded host sets `embedded` itself; Azure Functions and
   * `func start` leave the default. Reported by /api/health; also decides the durable backend. */
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
  /** Base URL at which jobs reach this app's job callback (`<url>/api/callbacks/jobs`); empty:
   * derived from WEBSITE_HOSTNAME, which Azure Functions and the embedded host set. */
  LEDGERFLOW_PUBLIC_URL: z.string().default(''),
});

export type Settings = z.infer<typeof settingsSchema>;

export function parseSettings(env: NodeJS.ProcessEnv): Settings {
  const result = settingsSchema.safeParse(env);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({
    path: issue.path.join('.'),
    message: issue.message,
  }));
  const names = details.map((d) => `${d.path}: ${d.message}`).join('; ');
  throw new LedgerflowError('validation_failed', `invalid setting ${names}`, { details });
}

let cached: Settings | undefined;
/** The process's settings, parsed on first use. */
export function settings(): Settings {
  cached ??= parseSettings(process.env);
  return cached;
}
