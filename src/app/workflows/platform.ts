import { randomBytes, randomUUID } from 'node:crypto';
import type { HttpRequest } from '@azure/functions';
import type { Settings } from '../../config/settings';
import { LedgerflowError } from '../../core/errors';
import type { Caller } from '../../core/model';
import type { RunTiming } from '../../core/workflow/run';
import type { Logger } from '../../observability/logger';
import type { ComputeBackend } from '../../ports/compute';
import type { DatasetLocation } from '../../ports/datasetStorage';
import type { KeyStore } from '../../ports/keyStore';
import type { Ledger } from '../../ports/ledger';
import type { ActivityDeps } from './activityDeps';
import type { RunControl } from './runControl';
import { WorkflowService } from './workflowService';

/**
 * The workflow side's seam to the composition root. The entry point provides it once
 * (functions/index.ts); the workflow routes, queue functions and activities take
 * everything from here, so none of them constructs an adapter and tests provide fakes.
 */
export interface WorkflowPlatform {
  settings: Settings;
  ledger: Ledger;
  compute: ComputeBackend;
  /** The platform organization's key store: home of the job callback key. */
  platformKeyStore: KeyStore;
  /** Opens a dataset's sealed location with its owner's key; fetches its credential. */
  locateDataset(datasetId: string): Promise<{ location: DatasetLocation; credential?: string }>;
  log: Logger;
}

/** Who is calling, from the request (bearer token or App Service principal); throws 401. */
export type Authenticate = (request: HttpRequest) => Caller;

let platformFactory: (() => Promise<WorkflowPlatform>) | undefined;
let platform: Promise<WorkflowPlatform> | undefined;
let authenticateFn: Authenticate | undefined;

export function provideWorkflowPlatform(factory: () => Promise<WorkflowPlatform>, authenticate: Authenticate): void {
  platformFactory = factory;
  platform = undefined;
  authenticateFn = authenticate;
}

export function workflowPlatform(): Promise<WorkflowPlatform> {
  if (platformFactory === undefined) return Promise.reject(new LedgerflowError('unavailable', 'the workflow platform was not provided'));
  platform ??= platformFactory().catch((err: unknown) => {
    platform = undefined;
    throw err;
  });
  return platform;
}

export function authenticate(request: HttpRequest): Caller {
  if (authenticateFn === undefined) throw new LedgerflowError('unavailable', 'authentication was not provided');
  return authenticateFn(request);
}

export function runTiming(s: Settings): RunTiming {
  return {
    statusPollSeconds: s.WORKFLOW_STATUS_POLL_SECONDS,
    completionGraceSeconds: s.WORKFLOW_COMPLETION_GRACE_SECONDS,
    watchdogSeconds: s.WORKFLOW_WATCHDOG_SECONDS,
    defaultJobTimeoutSeconds: s.WORKFLOW_DEFAULT_JOB_TIMEOUT,
    defaultImage: s.WORKFLOW_DEFAULT_IMAGE,
  };
}

export function workflowService(p: WorkflowPlatform, runs: RunControl): WorkflowService {
  return new WorkflowService({
    ledger: p.ledger, compute: p.compute, runs, timing: runTiming(p.settings), newId: randomUUID, now: () => new Date(), log: p.log,
  });
}

/** Where jobs post their completion. */
export function callbackUrl(s: Settings, env: NodeJS.ProcessEnv = process.env): string {
  if (s.LEDGERFLOW_PUBLIC_URL !== '') return `${s.LEDGERFLOW_PUBLIC_URL.replace(/\/+$/, '')}/api/callbacks/jobs`;
  const host = env['WEBSITE_HOSTNAME'];
  if (host === undefined || host === '') throw new LedgerflowError('unavailable', 'set LEDGERFLOW_PUBLIC_URL: jobs need a URL to report completion to');
  const local = /^(localhost|127\.|\[::1\])/.test(host);
  return `${local ? 'http' : 'https'}://${host}/api/callbacks/jobs`;
}

const CALLBACK_KEY = 'workflow-callback-key';

/**
 * The platform key that callback tokens are derived from, created on first use. Two
 * instances creating it at once is resolved by reading back what was stored, so both use
 * the survivor (a token derived in that instant from the loser would be refused and the
 * job found by the status check instead). Production may provision it in Key Vault ahead.
 */
export function callbackKey(store: KeyStore): Promise<Buffer> {
  // The key never changes once stored: read it once per process and store.
  let key = callbackKeys.get(store);
  if (key === undefined) {
    key = loadCallbackKey(store);
    key.catch(() => callbackKeys.delete(store));
    callbackKeys.set(store, key);
  }
  return key;
}

const callbackKeys = new WeakMap<KeyStore, Promise<Buffer>>();

async function loadCallbackKey(store: KeyStore): Promise<Buffer> {
  let value = await store.get(CALLBACK_KEY);
  if (value === undefined) {
    await store.set(CALLBACK_KEY, randomBytes(32).toString('base64url'));
    value = await store.get(CALLBACK_KEY);
    if (value === undefined) throw new LedgerflowError('unavailable', 'the callback key could not be stored');
  }
  return Buffer.from(value, 'base64url');
}

export function activityDepsOf(p: WorkflowPlatform): ActivityDeps {
  return {
    ledger: p.ledger,
    compute: p.compute,
    locateDataset: (id) => p.locateDataset(id),
    callbackKey: () => callbackKey(p.platformKeyStore),
    callbackUrl: () => callbackUrl(p.settings),
    now: () => new Date(),
    log: p.log,
  };
}
