import type { Settings } from '../config/settings';
import type { Logger } from '../observability/logger';
import type { ComputeBackend } from '../ports/compute';
import { LocalComputeBackend } from '../adapters/compute/local/localCompute';
import { KubernetesJobBackend } from '../adapters/compute/kubernetes/jobBackend';
import { ArgoWorkflowsBackend } from '../adapters/compute/argo/argoBackend';

/** The compute backend the settings choose (COMPUTE). The Kubernetes Job backend reports
 * completions from a watcher, started here; Argo reports through each Workflow's exit hook. */
export async function createCompute(s: Settings, log: Logger): Promise<ComputeBackend> {
  const clog = log.child({ component: 'compute' });
  switch (s.COMPUTE) {
    case 'local':
      return new LocalComputeBackend({ dataDir: s.LEDGERFLOW_DATA_DIR, sandbox: s.LOCAL_SANDBOX, defaultMemory: s.LOCAL_JOB_MEMORY, logger: clog });
    case 'kubernetes': {
      const backend = KubernetesJobBackend.fromSettings(s, clog);
      await backend.watchCompletions();
      return backend;
    }
    case 'argo':
      return ArgoWorkflowsBackend.fromSettings(s, clog);
  }
}
