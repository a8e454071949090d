import type { Settings } from '../../../config/settings';

/** Cluster-side choices the manifest builders need; filled from settings by the backends. */
export interface ClusterOptions {
  namespace: string;
  workspace: { storageClass: string; size: string; accessMode: 'ReadWriteMany' | 'ReadWriteOnce' };
  /** Node holding `local` datasets; empty: hostPath volumes (a one-node cluster). */
  localDatasetNode: string;
  runAsUser: number;
  jobTtlSeconds: number;
  notifierImage: string;
  readerImage: string;
  argoExecutorServiceAccount: string;
}

export function clusterOptions(s: Settings): ClusterOptions {
  return {
    namespace: s.K8S_NAMESPACE,
    workspace: { storageClass: s.K8S_WORKSPACE_STORAGE_CLASS, size: s.K8S_WORKSPACE_SIZE, accessMode: s.K8S_WORKSPACE_ACCESS_MODE },
    localDatasetNode: s.K8S_LOCAL_DATASET_NODE,
    runAsUser: s.K8S_RUN_AS_USER,
    jobTtlSeconds: s.K8S_JOB_TTL_SECONDS,
    notifierImage: s.K8S_NOTIFIER_IMAGE,
    readerImage: s.K8S_READER_IMAGE,
    argoExecutorServiceAccount: s.K8S_ARGO_EXECUTOR_SERVICE_ACCOUNT,
  };
}
