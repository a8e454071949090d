import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { HostConfigError } from './config/hostConfigError';
import { holdProcessLock, LockHeldError } from '../fs/processLock';

/** One host per data dir: its queues, timers and durable state assume a single owner
 * (for instance, leases left by a dead host are reclaimed at start). The lock is the
 * kernel's (see processLock.ts): a host killed with -9 can be restarted at once. */
export function lockDataDir(dataDir: string): () => void {
  // Private to the user: the data dir holds keys, ledger state and job data.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    const lock = holdProcessLock(join(dataDir, 'host.lock.db'));
    return () => lock.release();
  } catch (err) {
    if (!(err instanceof LockHeldError)) throw err;
    const pid = err.holderPid === undefined ? '' : ` (pid ${err.holderPid})`;
    throw new HostConfigError(`the data dir ${dataDir} is in use by another host${pid}; set LEDGERFLOW_DATA_DIR`, { cause: err });
  }
}
