import { createHmac, randomUUID } from 'node:crypto';
import type { Settings } from '../../config/settings';
import { unsealLocation } from '../../core/crypto/seal';
import { LedgerflowError } from '../../core/errors';
import type { Caller, DatasetLocation, StorageKind } from '../../core/model';
import { dataKeyName } from '../../core/secretNames';
import type { Receipt } from '../../core/receipt';
import { memoryBytes } from '../../core/workflow/quantity';
import type { Logger } from '../../observability/logger';
import type { ComputeBackend } from '../../ports/compute';
import type { DatasetStorage } from '../../ports/datasetStorage';
import type { KeyStores } from '../../ports/keyStore';
import type { Ledger } from '../../ports/ledger';
import type { RunIndex } from '../../ports/runIndex';
import type { RunMessages } from '../../ports/runMessages';
import type { ActivityDeps } from './activityDeps';
import { callbackKey, callbackUrl, runTiming } from './platform';
import type { RunControl } from './runControl';
import { WorkflowService } from './workflowService';
import { ApprovalService } from './approvalService';
import { ResultsService } from './resultsService';
import { runReceipt } from './receipts';
import { ScheduleService } from '../schedules/scheduleService';

/**
 * The workflow side of the composition root (src/app/services.ts): what the workflow
 * routes, the callback and queue functions and the activities are built from. The compute
 * backend is built on first use (a dataset-only process never starts a cluster watcher)
 * and then shared.
 */
export interface WorkflowSide {
  /** The compute backend COMPUTE chooses. */
  compute(): Promise<ComputeBackend>;
  /** The workflow API over one invocation's durable client. */
  workflowService(runs: RunControl): Promise<WorkflowService>;
  /** The owners' control of a run's outputs over one invocation's durable client. */
  resultsService(runs: RunControl): Promise<ResultsService>;
  /** Schedules and data triggers over one invocation's durable client. */
  scheduleService(runs: RunControl): ScheduleService;
  /** The owners' consent API over one invocation's durable client. */
  approvalService(runs: RunControl): Promise<ApprovalService>;
  /** A run's receipt: its ledger transactions with block numbers (receipts.ts). */
  receipt(runs: RunControl, caller: Caller, workflowId: string): Promise<Receipt>;
  /** What activities reach the outside through. */
  activityDeps(): Promise<ActivityDeps>;
  /** The platform key job callback tokens are derived from. */
  callbackKey(): Promise<Buffer>;
  /** The app's index of runs (listing, lease-end cancels, retention). */
  readonly runIndex: RunIndex;
}

export interface WorkflowSideParts {
  settings: Settings;
  ledger: Ledger;
  keyStores: KeyStores;
  platform: Caller;
  log: Logger;
  createCompute: () => Promise<ComputeBackend>;
  runIndex: RunIndex;
  runMessages: RunMessages;
  /** Where a dataset version's content is (versioned directories). */
  storage(kind: StorageKind): DatasetStorage;
}

export function workflowSide(p: WorkflowSideParts): WorkflowSide {
  let compute: Promise<ComputeBackend> | undefined;
  const computeOnce = (): Promise<ComputeBackend> =>
    (compute ??= p.createCompute().catch((err: unknown) => {
      compute = undefined; // the next call tries again rather than caching a failure
      throw err;
    }));
  const log = p.log.child({ component: 'workflows' });
  const platformKeyStore = p.keyStores.forOrg(p.platform.org);
  const key = () => callbackKey(platformKeyStore);
  const locateDataset = datasetLocator(p.ledger, p.keyStores, p.platform, p.storage);
  const resultsService = async (runs: RunControl) => new ResultsService({ ledger: p.ledger, compute: await computeOnce(), runs, log });
  // A key of its own for listing cursors, derived from the platform key (key separation).
  const cursorKey = async () =>
    createHmac('sha256', await key())
      .update('ledgerflow workflow list cursor')
      .digest();
  return {
    compute: computeOnce,
    callbackKey: key,
    runIndex: p.runIndex,
    resultsService,
    workflowService: async (runs) => {
      const compute = await computeOnce();
      return new WorkflowService({
        ledger: p.ledger,
        platform: p.platform,
        compute,
        runs,
        results: await resultsService(runs),
        index: p.runIndex,
        cursorKey,
        messages: p.runMessages,
        timing: runTiming(p.settings),
        newId: randomUUID,
        now: () => new Date(),
        log,
        ...(compute.kind === 'local' && { maxJobMemoryBytes: memoryBytes(p.settings.LOCAL_JOB_MAX_MEMORY) }),
      });
    },
    receipt: (runs, caller, workflowId) =>
      runReceipt({ ledger: p.ledger, runs, ledgerNames: { channel: p.settings.FABRIC_CHANNEL, chaincode: p.settings.FABRIC_CHAINCODE } }, caller, workflowId),
    scheduleService: (runs) => new ScheduleService({ ledger: p.ledger, runs, log: p.log.child({ component: 'schedules' }) }),
    approvalService: async (runs) => new ApprovalService({ ledger: p.ledger, compute: await computeOnce(), runs, log }),
    activityDeps: async () => ({
      ledger: p.ledger,
      platform: p.platform,
      compute: await computeOnce(),
      locateDataset,
      callbackKey: key,
      callbackUrl: () => callbackUrl(p.settings),
      runIndex: p.runIndex,
      now: () => new Date(),
      log,
    }),
  };
}

/** Opens a dataset's sealed location with its owner's key, as the platform identity: the
 * job's launch was authorised by the lease check, and the location is opened only inside
 * the launch activity. */
function datasetLocator(ledger: Ledger, keyStores: KeyStores, platform: Caller, storage: WorkflowSideParts['storage']): ActivityDeps['locateDataset'] {
  return async (datasetId, version) => {
    const record = await ledger.as(platform).getDataset(datasetId);
    if (record === undefined || record.deletedAt !== undefined) throw new LedgerflowError('gone', `dataset ${datasetId} is gone`);
    const keyStore = keyStores.forOrg(record.owner.org);
    const dataKey = await keyStore.get(dataKeyName(datasetId));
    if (dataKey === undefined) throw new LedgerflowError('gone', `the key of dataset ${datasetId} is gone`);
    const sealed: DatasetLocation = unsealLocation(record.sealedLocation, dataKey, datasetId);
    const location = storage(sealed.kind).versions?.at(sealed, version ?? record.version ?? 1) ?? sealed;
    if (location.kind !== 'azure-files') return { location };
    const credential = await keyStore.get(location.credentialRef);
    return credential === undefined ? { location } : { location, credential };
  };
}
