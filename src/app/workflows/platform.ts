import { randomBytes } from 'node:crypto';
import type { Settings } from '../../config/settings';
import { LedgerflowError } from '../../core/errors';
import type { RunTiming } from '../../core/workflow/run';
import type { KeyStore } from '../../ports/keyStore';

/**
 * What the workflow side derives from settings and the key store: a run's timing, the URL
 * jobs report to, and the key their callback tokens derive from.
 */

/** The settings that time a run, as its orchestrators take them (in their input). */
export function runTiming(s: Settings): RunTiming {
  return {
    statusPollSeconds: s.WORKFLOW_STATUS_POLL_SECONDS,
    completionGraceSeconds: s.WORKFLOW_COMPLETION_GRACE_SECONDS,
    watchdogSeconds: s.WORKFLOW_WATCHDOG_SECONDS,
    defaultJobTimeoutSeconds: s.WORKFLOW_DEFAULT_JOB_TIMEOUT,
    defaultImage: s.WORKFLOW_DEFAULT_IMAGE,
  };
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
