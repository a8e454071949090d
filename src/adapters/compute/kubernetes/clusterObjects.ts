import * as k8s from '@kubernetes/client-node';
import { validationError } from '../../../core/errors';
import { relativePathProblem } from '../../../core/relativePath';
import type { Logger } from '../../../observability/logger';
import type { JobLaunch, ResolvedVolume } from '../../../ports/compute';
import { runDatasets } from '../manifests/render';
import { managedSelector, runSelector } from '../manifests/names';
import type { ClusterOptions } from '../manifests/options';
import { READER_NOT_FOUND, readerPod } from '../manifests/reader';
import { codeConfigMap, workspaceClaim } from '../manifests/workspace';
import { background, ignoreNotFound, isStatus } from './client';
import { type Compensation, withCompensation } from './compensation';
import { waitForPod } from './podWatch';

/**
 * The objects both cluster backends create around their jobs (workspace claim and code
 * ConfigMap, dataset PV/PVC/Secret, callback Secrets), reading pods, and run cleanup.
 * Creation is idempotent: 409 AlreadyExists means an earlier call made the object.
 */
export class ClusterObjects {
  readonly core: k8s.CoreV1Api;

  constructor(
    readonly kc: k8s.KubeConfig,
    readonly opts: ClusterOptions,
    readonly log: Logger,
  ) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
  }

  get namespace(): string {
    return this.opts.namespace;
  }

  /**
   * Creates an object unless it exists; pushes its deletion onto the stack only if this call
   * created it. The last step of a launch passes no `remove`: nothing after it can fail.
   */
  async createOnce(stack: Compensation, what: string, create: () => Promise<unknown>, remove?: () => Promise<unknown>): Promise<void> {
    try {
      await create();
    } catch (err) {
      if (isStatus(err, 409)) return;
      throw err;
    }
    if (remove !== undefined) stack.push(what, () => ignoreNotFound(remove()));
  }

  async prepareWorkspace(workflowId: string, files: Record<string, string>): Promise<void> {
    const namespace = this.namespace;
    const configMap = codeConfigMap(this.opts, workflowId, files);
    const claim = workspaceClaim(this.opts, workflowId);
    await withCompensation(this.log, async (stack) => {
      await this.createOnce(
        stack,
        `configmap ${configMap.metadata!.name}`,
        () => this.core.createNamespacedConfigMap({ namespace, body: configMap }),
        () => this.core.deleteNamespacedConfigMap({ name: configMap.metadata!.name!, namespace }),
      );
      await this.createOnce(
        stack,
        `pvc ${claim.metadata!.name}`,
        () => this.core.createNamespacedPersistentVolumeClaim({ namespace, body: claim }),
        () => this.core.deleteNamespacedPersistentVolumeClaim({ name: claim.metadata!.name!, namespace }),
      );
    });
  }

  /** The run's dataset volumes (shared by its jobs); returns the subPath of each dataset that needs one. */
  async ensureDatasets(
    stack: Compensation,
    workflowId: string,
    jobs: readonly JobLaunch[],
    volumes: readonly ResolvedVolume[],
  ): Promise<ReadonlyMap<string, string>> {
    const namespace = this.namespace;
    const { objects, subPaths } = runDatasets(this.opts, workflowId, jobs, volumes);
    for (const { secret, volume, claim } of objects) {
      if (secret !== undefined) {
        await this.createOnce(
          stack,
          `secret ${secret.metadata!.name}`,
          () => this.core.createNamespacedSecret({ namespace, body: secret }),
          () => this.core.deleteNamespacedSecret({ name: secret.metadata!.name!, namespace }),
        );
      }
      await this.createOnce(
        stack,
        `pv ${volume.metadata!.name}`,
        () => this.core.createPersistentVolume({ body: volume }),
        () => this.core.deletePersistentVolume({ name: volume.metadata!.name! }),
      );
      await this.createOnce(
        stack,
        `pvc ${claim.metadata!.name}`,
        () => this.core.createNamespacedPersistentVolumeClaim({ namespace, body: claim }),
        () => this.core.deleteNamespacedPersistentVolumeClaim({ name: claim.metadata!.name!, namespace }),
      );
    }
    return subPaths;
  }

  async createSecret(stack: Compensation, secret: k8s.V1Secret): Promise<void> {
    const namespace = this.namespace;
    await this.createOnce(
      stack,
      `secret ${secret.metadata!.name}`,
      () => this.core.createNamespacedSecret({ namespace, body: secret }),
      () => this.core.deleteNamespacedSecret({ name: secret.metadata!.name!, namespace }),
    );
  }

  /** The first pod matching the selector that `accept` takes, if any. */
  async findPod(labelSelector: string, accept: (pod: k8s.V1Pod) => boolean = () => true): Promise<k8s.V1Pod | undefined> {
    const pods = await this.core.listNamespacedPod({ namespace: this.namespace, labelSelector });
    return pods.items.find(accept);
  }

  async podLog(pod: k8s.V1Pod | undefined, container = 'main'): Promise<string> {
    if (pod?.metadata?.name === undefined) return '';
    const log = await ignoreNotFound(this.core.readNamespacedPodLog({ name: pod.metadata.name, namespace: this.namespace, container }));
    return log ?? '';
  }

  /** Reads one file through a reader pod (see manifests/reader.ts); undefined when absent. */
  async readWorkspaceFile(workflowId: string, path: string): Promise<Buffer | undefined> {
    const problem = relativePathProblem(path);
    if (problem !== undefined) throw validationError('invalid file path', [{ path: 'path', message: problem }]);
    const namespace = this.namespace;
    const pod = readerPod(this.opts, workflowId, path);
    const name = pod.metadata!.name!;
    // A reader left by an interrupted read may hold an older copy of the file: start afresh.
    await ignoreNotFound(this.core.deleteNamespacedPod({ name, namespace }));
    await this.core.createNamespacedPod({ namespace, body: pod });
    try {
      const done = await waitForPod(this.kc, namespace, name, (p) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed');
      const exitCode = done.status?.containerStatuses?.[0]?.state?.terminated?.exitCode;
      if (exitCode === READER_NOT_FOUND) return undefined;
      if (exitCode !== 0) throw new Error(`workspace reader ended with exit code ${String(exitCode)}`);
      return Buffer.from(await this.podLog(done), 'base64');
    } finally {
      await ignoreNotFound(this.core.deleteNamespacedPod({ name, namespace }));
    }
  }

  /** Deletes every namespaced object of the run (and its PVs); idempotent. `extra` removes backend objects first. */
  async cleanup(workflowId: string, extra: (labelSelector: string) => Promise<unknown>): Promise<void> {
    const namespace = this.namespace;
    const labelSelector = runSelector(workflowId);
    const both = { namespace, labelSelector, body: background };
    await extra(labelSelector);
    await this.core.deleteCollectionNamespacedPod(both);
    await this.core.deleteCollectionNamespacedSecret(both);
    await this.core.deleteCollectionNamespacedConfigMap(both);
    await this.core.deleteCollectionNamespacedPersistentVolumeClaim(both);
    // Cluster-scoped, so the run label alone could match another namespace's run: narrow by ours too.
    await this.core.deleteCollectionPersistentVolume({ labelSelector: `${labelSelector},${managedSelector}`, body: background });
  }
}
