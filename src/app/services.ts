import { join } from 'node:path';
import { datasetRoots, keyVaultUrls, settings as loadSettings, type Settings } from '../config/settings';
import { DatasetService } from './datasets/datasetService';
import { LedgerflowError } from '../core/errors';
import type { Caller, StorageKind } from '../core/model';
import { logger as rootLogger, type Logger } from '../observability/logger';
import type { DatasetStorage } from '../ports/datasetStorage';
import type { KeyStores } from '../ports/keyStore';
import type { Ledger } from '../ports/ledger';
import { FileKeyStores } from '../adapters/keyStore/fileKeyStore';
import { LocalDatasetStorage } from '../adapters/storage/localStorage';
import { SqliteRunIndex } from '../adapters/runIndex/sqliteRunIndex';
import { embeddedQueueMessages } from '../adapters/queues/embeddedQueueMessages';
import type { RunIndex } from '../ports/runIndex';
import type { RunMessages } from '../ports/runMessages';
import { createCompute } from './compute';
import { createLedger, serviceCaller } from './ledger';
import { workflowSide, type WorkflowSide } from './workflows/wiring';

/**
 * The composition root: the adapters the settings choose and the use cases over them, built
 * once per process and shared by every function and activity. Nothing else constructs an
 * adapter. Add a concern here as a field and one builder below.
 */
export interface Services extends WorkflowSide {
  readonly settings: Settings;
  readonly logger: Logger;
  readonly ledger: Ledger;
  readonly keyStores: KeyStores;
  storage(kind: StorageKind): DatasetStorage;
  readonly datasets: DatasetService;
  /** The identity that runs platform transactions (lease expiry): FABRIC_SERVICE_IDENTITY. */
  readonly platform: Caller;
  close(): Promise<void>;
}

// The Azure SDK adapters are required when first needed, not at app load: together they add
// about a quarter of a second to every start, which a one-machine setup never uses.
type KeyVaultModule = typeof import('../adapters/keyStore/keyVaultKeyStore');
type AzureFilesModule = typeof import('../adapters/storage/azureFilesStorage');
type IdentityModule = typeof import('@azure/identity');
type TableRunIndexModule = typeof import('../adapters/runIndex/tableRunIndex');

/** One machine: a SQLite file in the data dir. A Function App that scales out has no shared
 * disk, so there the index is an Azure Table in its own storage account (docs/workflows.md). */
function runIndexFor(s: Settings): RunIndex {
  if (s.RUN_INDEX === 'sqlite') return new SqliteRunIndex(join(s.LEDGERFLOW_DATA_DIR, RUN_INDEX_FILE));
  const { TableRunIndex } = require('../adapters/runIndex/tableRunIndex') as TableRunIndexModule;
  const { DefaultAzureCredential } = require('@azure/identity') as IdentityModule;
  return new TableRunIndex({ url: s.RUN_INDEX_TABLE_URL, tableName: s.RUN_INDEX_TABLE_NAME, credential: new DefaultAzureCredential() });
}

function azureFilesStorage(s: Settings): DatasetStorage {
  const { AzureFilesDatasetStorage } = require('../adapters/storage/azureFilesStorage') as AzureFilesModule;
  const { DefaultAzureCredential } = require('@azure/identity') as IdentityModule;
  return new AzureFilesDatasetStorage({
    ...(s.AZURE_FILES_ACCOUNT_URL === ''
      ? {}
      : {
          platformAccount: {
            url: s.AZURE_FILES_ACCOUNT_URL,
            credential: s.AZURE_FILES_CREDENTIAL === '' ? new DefaultAzureCredential() : s.AZURE_FILES_CREDENTIAL,
          },
        }),
    // API calls wait on these: a share URL an owner mistyped should fail in seconds, not minutes.
    pipelineOptions: { retryOptions: { maxTries: 3, retryDelayInMs: 500, maxRetryDelayInMs: 2000, tryTimeoutInMs: 30_000 } },
    allowPrivateAddresses: s.AZURE_FILES_ALLOW_PRIVATE,
  });
}

export async function buildServices(s: Settings, env: NodeJS.ProcessEnv, log: Logger = rootLogger()): Promise<Services> {
  const keyStores: KeyStores =
    s.KEY_STORE === 'file'
      ? await FileKeyStores.open(s.LEDGERFLOW_DATA_DIR)
      : new (require('../adapters/keyStore/keyVaultKeyStore') as KeyVaultModule).KeyVaultKeyStores({ vaultUrls: keyVaultUrls(env) });
  const local = new LocalDatasetStorage({
    dataDir: s.LEDGERFLOW_DATA_DIR,
    adoptRoots: datasetRoots(s),
    logger: log.child({ component: 'storage' }),
  });
  let azureFiles: DatasetStorage | undefined;
  const storage = (kind: StorageKind): DatasetStorage => (kind === 'local' ? local : (azureFiles ??= azureFilesStorage(s)));
  const ledger = await createLedger(s, log);
  const datasets = new DatasetService({
    ledger,
    keyStores,
    storage,
    defaultStorage: s.STORAGE,
    defaultLeaseTtlSeconds: s.LEASE_DEFAULT_TTL,
    logger: log,
  });
  const platform = serviceCaller(s);
  const runIndex = runIndexFor(s);
  // Azure Storage queues cannot be searched by content; their messages expire on their own
  // (seven days), which the embedded host's queue copies, so there only leftovers go sooner.
  const runMessages: RunMessages = s.LEDGERFLOW_HOST === 'embedded' ? embeddedQueueMessages(s.LEDGERFLOW_DATA_DIR) : { deleteFor: async () => 0 };
  return {
    settings: s,
    logger: log,
    ledger,
    keyStores,
    storage,
    datasets,
    platform,
    ...workflowSide({ settings: s, ledger, keyStores, platform, log, runIndex, runMessages, storage, createCompute: () => createCompute(s, log) }),
    close: async () => {
      await runIndex.close();
      await ledger.close();
    },
  };
}

/** The run index's file in the data dir (docs/workflows.md, "Listing"). */
export const RUN_INDEX_FILE = 'run-index.sqlite';

let current: Promise<Services> | undefined;

/** Closes what `services()` built (the ledger connection and an embedded peer), if anything. */
export async function closeServices(): Promise<void> {
  const built = current;
  current = undefined;
  if (built !== undefined) await (await built.catch(() => undefined))?.close();
}

/** The process's services, built on first use; a failed build is retried on the next call. */
export function services(): Promise<Services> {
  current ??= buildServices(loadSettings(), process.env).catch((err: unknown) => {
    current = undefined;
    // The cause (a setting, an unreachable peer) is for the operator's log, not for callers.
    rootLogger().error({ err }, 'building the adapters failed');
    throw new LedgerflowError('unavailable', 'the platform failed to start its adapters', { cause: err });
  });
  return current;
}
