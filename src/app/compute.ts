import type { Settings } from '../config/settings';
import { LedgerflowError } from '../core/errors';
import type { Logger } from '../observability/logger';
import type { ComputeBackend } from '../ports/compute';
import { LocalComputeBackend } from '../adapters/compute/local/localCompute';

/** The compute backend the settings choose (COMPUTE). */
export function createCompute(s: Settings, log: Logger): ComputeBackend {
  if (s.COMPUTE === 'local') {
    return new LocalComputeBackend({ dataDir: s.LEDGERFLOW_DATA_DIR, sandbox: s.LOCAL_SANDBOX, defaultMemory: s.LOCAL_JOB_MEMORY, logger: log.child({ component: 'compute' }) });
  }
  // The Kubernetes and Argo backends (src/adapters/compute/kubernetes, argo) plug in here.
  throw new LedgerflowError('unavailable', `COMPUTE=${s.COMPUTE} is not wired in this build`);
}
