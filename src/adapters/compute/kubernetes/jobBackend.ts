import * as k8s from '@kubernetes/client-node';
import type { Settings } from '../../../config/settings';
import type { Logger } from '../../../observability/logger';
import type { ComputeBackend, JobHandle, JobLaunch, JobObservation, ResolvedVolume } from '../../../ports/compute';
import { batchJob, callbackSecret } from '../manifests/job';
import { clusterOptions } from '../manifests/options';
import { background, ignoreNotFound, loadKubeConfig } from './client';
import { ClusterBackend, type ClusterBackendOptions } from './clusterBackend';
import { withCompensation } from './compensation';
import { CompletionWatcher, type CompletionWatcherOptions } from './completionWatcher';
import { observeJob } from './observe';

export interface KubernetesJobBackendOptions extends ClusterBackendOptions {
  /** How completions reach the callback (default: a POST with fetch), and how soon a failed one is retried. */
  completions?: CompletionWatcherOptions;
}

/** Pods of a Job carry this label (set by the job controller). */
const jobPodSelector = (jobName: string) => `batch.kubernetes.io/job-name=${jobName}`;

/**
 * Jobs as Kubernetes batch/v1 Jobs, one per attempt. A launch creates, each only once, the
 * run's dataset volumes, the job's callback Secret and the Job, undoing what it created if
 * a step fails. Completion is observed by `watchCompletions()` (one watch per process on
 * every ledgerflow Job of the namespace) and posted to the job's callback; `status` reads
 * the Job and its pod directly, which the orchestrator uses when a callback is lost.
 */
export class KubernetesJobBackend extends ClusterBackend<KubernetesJobBackendOptions> implements ComputeBackend {
  readonly kind = 'kubernetes' as const;
  private readonly batch: k8s.BatchV1Api;
  private readonly watcher: CompletionWatcher;

  constructor(options: KubernetesJobBackendOptions) {
    super(options);
    this.batch = options.kubeConfig.makeApiClient(k8s.BatchV1Api);
    this.watcher = new CompletionWatcher(options.kubeConfig, options.cluster.namespace, this.objects, options.log, options.completions);
  }

  static fromSettings(s: Settings, log: Logger): KubernetesJobBackend {
    return new KubernetesJobBackend({ kubeConfig: loadKubeConfig({ kubeconfig: s.K8S_KUBECONFIG, context: s.K8S_CONTEXT }), cluster: clusterOptions(s), log });
  }

  /** Starts reporting completions; resolves once the first list has been handled. Stop with the returned function. */
  watchCompletions(): Promise<() => void> {
    return this.watcher.start();
  }

  async launch(job: JobLaunch, volumes: ResolvedVolume[]): Promise<JobHandle> {
    const namespace = this.options.cluster.namespace;
    return withCompensation(this.options.log, async (stack) => {
      const subPaths = await this.objects.ensureDatasets(stack, job.workflowId, [job], volumes);
      await this.objects.createSecret(stack, callbackSecret(this.options.cluster, job));
      const manifest = batchJob(this.options.cluster, job, subPaths);
      const name = manifest.metadata!.name!;
      await this.objects.createOnce(stack, `job ${name}`, () => this.batch.createNamespacedJob({ namespace, body: manifest }));
      this.options.log.info({ workflowId: job.workflowId, jobName: job.jobName, attempt: job.attempt, ref: name }, 'kubernetes job created');
      return { backend: this.kind, ref: name };
    });
  }

  async status(handle: JobHandle): Promise<JobObservation> {
    const namespace = this.options.cluster.namespace;
    const job = await ignoreNotFound(this.batch.readNamespacedJob({ name: handle.ref, namespace }));
    if (job === undefined) return { phase: 'Unknown', exitCode: null, message: 'the Job no longer exists' };
    return observeJob(job, await this.jobPod(handle));
  }

  async cancel(handle: JobHandle): Promise<void> {
    await ignoreNotFound(this.batch.deleteNamespacedJob({ name: handle.ref, namespace: this.options.cluster.namespace, body: background }));
  }

  protected jobPod(handle: JobHandle): Promise<k8s.V1Pod | undefined> {
    return this.objects.findPod(jobPodSelector(handle.ref));
  }

  protected deleteRunObjects(namespace: string, labelSelector: string): Promise<unknown> {
    return this.batch.deleteCollectionNamespacedJob({ namespace, labelSelector, body: background });
  }
}
