import * as k8s from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { validationError } from '../../../core/errors';
import { relativePathProblem } from '../../../core/relativePath';
import type { Logger } from '../../../observability/logger';
import type { JobLaunch, ResolvedVolume } from '../../../ports/compute';
import { runDatasets } from '../manifests/render';
import { MAX_OUTPUT_FILES, type FileDigest } from '../../../core/workflow/outputs';
import { LABELS, managedSelector, names, runSelector } from '../manifests/names';
import type { ClusterOptions } from '../manifests/options';
import { listerPod, listingLogBytes, parseListing, READER_NOT_FOUND, readerPod } from '../manifests/reader';
import { codeConfigMap, ROLE_WORKSPACE, workspaceClaim } from '../manifests/workspace';
import { background, ignoreNotFound, isStatus } from './client';
import { type Compensation, withCompensation } from './compensation';
import { waitForPod } from './podWatch';

/** Tells concurrent reader pods of one run apart (names.reader). */
const podNonce = (): string => randomBytes(3).toString('hex');

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
    return this.runReader(readerPod(this.opts, workflowId, path, podNonce()), async (exitCode, log) => {
      if (exitCode === READER_NOT_FOUND) return undefined;
      if (exitCode !== 0) throw new Error(`workspace reader ended with exit code ${String(exitCode)}`);
      return Buffer.from(await log(), 'base64');
    });
  }

  /** Every regular file of the workspace with its size and sha256, through a lister pod
   * (manifests/reader.ts); none when the workspace claim is gone. */
  async workspaceFiles(workflowId: string): Promise<FileDigest[]> {
    const claim = await ignoreNotFound(this.core.readNamespacedPersistentVolumeClaim({ name: names.workspaceClaim(workflowId), namespace: this.namespace }));
    if (claim === undefined) return [];
    return this.runReader(listerPod(this.opts, workflowId, MAX_OUTPUT_FILES, podNonce()), async (exitCode, log) => {
      // Cut short (too many files) the listing ends with head's status, 0: the parse tells.
      if (exitCode !== 0) throw new Error(`workspace lister ended with exit code ${String(exitCode)}`);
      return parseListing(await log(listingLogBytes(MAX_OUTPUT_FILES)), MAX_OUTPUT_FILES);
    });
  }

  /** Runs a pod of role reader to its end (a pod an interrupted read left behind ends at its
   * deadline and goes with the run's cleanup, which selects it by the run label) and hands its exit code and log to `read`; the pod is deleted either way. */
  private async runReader<T>(pod: k8s.V1Pod, read: (exitCode: number | undefined, log: (limitBytes?: number) => Promise<string>) => Promise<T>): Promise<T> {
    const namespace = this.namespace;
    const name = pod.metadata!.name!;
    await this.core.createNamespacedPod({ namespace, body: pod });
    try {
      const timeoutMs = (pod.spec!.activeDeadlineSeconds! + 60) * 1000;
      const done = await waitForPod(this.kc, namespace, name, (p) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed', timeoutMs);
      const exitCode = done.status?.containerStatuses?.[0]?.state?.terminated?.exitCode;
      return await read(
        exitCode,
        async (limitBytes) =>
          (await ignoreNotFound(this.core.readNamespacedPodLog({ name, namespace, container: 'main', ...(limitBytes !== undefined && { limitBytes }) }))) ?? '',
      );
    } finally {
      await ignoreNotFound(this.core.deleteNamespacedPod({ name, namespace }));
    }
  }

  /**
   * Deletes every namespaced object of the run (and its PVs); idempotent. `extra` removes
   * backend objects first. `keepOutputs` spares the workspace claim (results pending review:
   * the reviewers and, after a release, the requester read it through reader pods); a later
   * cleanup without it (a rejection's deleteOutputs, retention) deletes it.
   */
  async cleanup(workflowId: string, extra: (labelSelector: string) => Promise<unknown>, keepOutputs = false): Promise<void> {
    const namespace = this.namespace;
    const labelSelector = runSelector(workflowId);
    const both = { namespace, labelSelector, body: background };
    await extra(labelSelector);
    await this.core.deleteCollectionNamespacedPod(both);
    await this.core.deleteCollectionNamespacedSecret(both);
    await this.core.deleteCollectionNamespacedConfigMap(both);
    await this.core.deleteCollectionNamespacedPersistentVolumeClaim(
      keepOutputs ? { ...both, labelSelector: `${labelSelector},${LABELS.role}!=${ROLE_WORKSPACE}` } : both,
    );
    // Cluster-scoped, so the run label alone could match another namespace's run: narrow by ours too.
    await this.core.deleteCollectionPersistentVolume({ labelSelector: `${labelSelector},${managedSelector}`, body: background });
  }
}
