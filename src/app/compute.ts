import type { Settings } from '../config/settings';
import { memoryBytes } from '../core/workflow/quantity';
import { logger as rootLogger, type Logger } from '../observability/logger';
import type { ComputeBackend } from '../ports/compute';
import { LocalComputeBackend, type LocalComputeDescription } from '../adapters/compute/local/localCompute';
import { jobUserFor, probeSandbox, type SandboxDetection } from '../adapters/compute/local/sandbox';

// The cluster backends are required only when chosen: @kubernetes/client-node alone adds
// about a third of a second to every host start that does not use it.
type KubernetesModule = typeof import('../adapters/compute/kubernetes/jobBackend');
type ArgoModule = typeof import('../adapters/compute/argo/argoBackend');

/** The compute backend the settings choose (COMPUTE). The Kubernetes Job backend reports
 * completions from a watcher, started here; Argo reports through each Workflow's exit hook. */
export async function createCompute(s: Settings, log: Logger): Promise<ComputeBackend> {
  const clog = log.child({ component: 'compute' });
  switch (s.COMPUTE) {
    case 'local':
      return localCompute(s, clog, await probeLocalSandbox(s));
    case 'kubernetes': {
      const { KubernetesJobBackend } = require('../adapters/compute/kubernetes/jobBackend') as KubernetesModule;
      const backend = KubernetesJobBackend.fromSettings(s, clog);
      await backend.watchCompletions();
      return backend;
    }
    case 'argo': {
      const { ArgoWorkflowsBackend } = require('../adapters/compute/argo/argoBackend') as ArgoModule;
      return ArgoWorkflowsBackend.fromSettings(s, clog);
    }
  }
}

export type ComputeDescription = LocalComputeDescription | { backend: Exclude<Settings['COMPUTE'], 'local'> };

/** What /api/health says about compute. For the local backend, its sandbox: the same
 * backend instance the workflows run on, so health reports the isolation actually in use.
 * Cheap: it neither starts the other adapters nor contacts a cluster. */
export async function describeCompute(s: Settings): Promise<ComputeDescription> {
  if (s.COMPUTE !== 'local') return { backend: s.COMPUTE };
  return localCompute(s, rootLogger().child({ component: 'compute' }), await probeLocalSandbox(s)).describe();
}

let probe: Promise<SandboxDetection> | undefined;
/** The local sandbox probe (child processes; bwrap's alone takes a few ms, much more on a
 * busy machine), started once and without blocking: the app starts it when it starts
 * (functions/http/health.ts), so the first /api/health finds it done. */
export function probeLocalSandbox(s: Settings): Promise<SandboxDetection> {
  probe ??= probeSandbox(s.LOCAL_SANDBOX, jobUserFor({ uid: s.LOCAL_JOB_UID, gid: s.LOCAL_JOB_GID }));
  return probe;
}

// One per process: the settings it reads are the process's.
let local: LocalComputeBackend | undefined;
function localCompute(s: Settings, log: Logger, detection: SandboxDetection): LocalComputeBackend {
  local ??= new LocalComputeBackend({
    dataDir: s.LEDGERFLOW_DATA_DIR,
    sandbox: s.LOCAL_SANDBOX,
    detection,
    defaultMemory: s.LOCAL_JOB_MEMORY,
    jobUser: { uid: s.LOCAL_JOB_UID, gid: s.LOCAL_JOB_GID },
    logBytes: s.LOCAL_JOB_LOG_BYTES,
    diskBytes: memoryBytes(s.LOCAL_JOB_DISK),
    pids: s.LOCAL_JOB_PIDS,
    ...(s.LOCAL_MAX_RUNNING_JOBS !== '' && { maxRunning: s.LOCAL_MAX_RUNNING_JOBS }),
    logger: log,
  });
  return local;
}
