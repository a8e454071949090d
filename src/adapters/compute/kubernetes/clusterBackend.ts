import type * as k8s from '@kubernetes/client-node';
import type { FileDigest } from '../../../core/workflow/outputs';
import type { Logger } from '../../../observability/logger';
import type { JobHandle, TimedLine, TimedLogQuery } from '../../../ports/compute';
import type { ClusterOptions } from '../manifests/options';
import { ClusterObjects } from './clusterObjects';

export interface ClusterBackendOptions {
  kubeConfig: k8s.KubeConfig;
  cluster: ClusterOptions;
  log: Logger;
}

/**
 * What a backend running jobs as pods of a cluster does the same way whatever makes the pods
 * (batch/v1 Jobs or Argo Workflows): the run's workspace claim, pod logs, and cleanup by the
 * run's label. A subclass says how to find a job's pod and how to delete the run's own kind
 * of object.
 */
export abstract class ClusterBackend<O extends ClusterBackendOptions> {
  /** Logs live in the job pods, which cleanup deletes. */
  readonly cleanupDeletesLogs = true;
  protected readonly objects: ClusterObjects;

  constructor(protected readonly options: O) {
    this.objects = new ClusterObjects(options.kubeConfig, options.cluster, options.log);
  }

  /** The pod that ran (or runs) the job, if it still exists. */
  protected abstract jobPod(handle: JobHandle): Promise<k8s.V1Pod | undefined>;

  /** Deletes the run's Jobs or Workflows: every object of that kind matching `labelSelector`. */
  protected abstract deleteRunObjects(namespace: string, labelSelector: string): Promise<unknown>;

  prepareWorkspace(workflowId: string, files: Record<string, string>): Promise<void> {
    return this.objects.prepareWorkspace(workflowId, files);
  }

  async logs(handle: JobHandle): Promise<string> {
    return this.objects.podLog(await this.jobPod(handle));
  }

  async timedLog(handle: JobHandle, query: TimedLogQuery): Promise<TimedLine[] | undefined> {
    return this.objects.timedPodLog(await this.jobPod(handle), query);
  }

  readWorkspaceFile(workflowId: string, path: string): Promise<Buffer | undefined> {
    return this.objects.readWorkspaceFile(workflowId, path);
  }

  workspaceFiles(workflowId: string): Promise<FileDigest[]> {
    return this.objects.workspaceFiles(workflowId);
  }

  /** Everything of the run, the workspace claim included (cleanup without keepOutputs). */
  deleteOutputs(workflowId: string): Promise<void> {
    return this.cleanup(workflowId);
  }

  async cleanup(workflowId: string, options: { keepOutputs?: boolean } = {}): Promise<void> {
    const namespace = this.options.cluster.namespace;
    await this.objects.cleanup(workflowId, (labelSelector) => this.deleteRunObjects(namespace, labelSelector), options.keepOutputs);
  }
}
