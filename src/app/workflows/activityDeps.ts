import type { Logger } from '../../observability/logger';
import type { ComputeBackend } from '../../ports/compute';
import type { DatasetLocation } from '../../ports/datasetStorage';
import type { Ledger } from '../../ports/ledger';
import { LedgerflowError } from '../../core/errors';

/**
 * Everything activities reach the outside through. Built once per process from the
 * composition root (src/app/workflows/wiring.ts, from platform.ts) in production; tests pass fakes. Activities
 * import this type, never an adapter, so orchestrator code that imports activity handles
 * stays free of adapters too.
 */
export interface ActivityDeps {
  ledger: Ledger;
  compute: ComputeBackend;
  /** Opens a dataset's sealed location with its owner's key and fetches its storage
   * credential, if any. The credential goes to the compute backend and nowhere else. */
  locateDataset(datasetId: string): Promise<{ location: DatasetLocation; credential?: string }>;
  /** The platform key that job callback tokens are derived from (from the key store). */
  callbackKey(): Promise<Buffer>;
  /** Where jobs report completion (the job callback function's URL); the report names the job. */
  callbackUrl(): string;
  now(): Date;
  log: Logger;
}

let provider: (() => Promise<ActivityDeps>) | undefined;
let built: Promise<ActivityDeps> | undefined;

/** Called once by the app's entry point (or a test) before any activity runs. */
export function provideActivityDeps(factory: () => Promise<ActivityDeps>): void {
  provider = factory;
  built = undefined;
}

export function activityDeps(): Promise<ActivityDeps> {
  if (provider === undefined) {
    return Promise.reject(new LedgerflowError('unavailable', 'activity dependencies were not provided'));
  }
  built ??= provider().catch((err: unknown) => {
    built = undefined; // let the next activity try again rather than caching a failure
    throw err;
  });
  return built;
}
