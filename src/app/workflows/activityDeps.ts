import type { Caller } from '../../core/model';
import type { Logger } from '../../observability/logger';
import type { ComputeBackend } from '../../ports/compute';
import type { DatasetLocation } from '../../ports/datasetStorage';
import type { Ledger } from '../../ports/ledger';
import type { RunIndex } from '../../ports/runIndex';

/**
 * Everything activities reach the outside through. Built once per process by the
 * composition root (Services.activityDeps, src/app/services.ts); tests pass fakes to an
 * activity's `run`. Activities import this type, never an adapter, so orchestrator code
 * that imports activity handles stays free of adapters too.
 */
export interface ActivityDeps {
  ledger: Ledger;
  /** The platform identity: the one the chaincode lets expire leases. */
  platform: Caller;
  compute: ComputeBackend;
  /** Opens a dataset's sealed location with its owner's key and fetches its storage
   * credential, if any: the location of `version` (default: the current one). The
   * credential goes to the compute backend and nowhere else. */
  locateDataset(datasetId: string, version?: number): Promise<{ location: DatasetLocation; credential?: string }>;
  /** The platform key that job callback tokens are derived from (from the key store). */
  callbackKey(): Promise<Buffer>;
  /** Where jobs report completion (the job callback function's URL); the report names the job. */
  callbackUrl(): string;
  /** The app's index of runs: the launch and the cleanup request move a run's status there. */
  runIndex: RunIndex;
  now(): Date;
  log: Logger;
}
