import * as k8s from '@kubernetes/client-node';
import { errorMessage } from '../../../core/errors';
import type { CompletionReport } from '../../../api/messages';
import type { Logger } from '../../../observability/logger';
import { completionPoster, type CompletionPoster } from '../completionReport';
import { CALLBACK_TOKEN_KEY, CALLBACK_URL_KEY } from '../manifests/job';
import { ANNOTATIONS, managedSelector, names } from '../manifests/names';
import { ignoreNotFound, mergePatch } from './client';
import type { ClusterObjects } from './clusterObjects';
import { isFinished, observeJob } from './observe';

const postCompletion: CompletionPoster = completionPoster(30_000);

const RESTART_DELAY_MS = 1_000;
const MAX_RETRY_DELAY_MS = 60_000;

export interface CompletionWatcherOptions {
  post?: CompletionPoster;
  /** First delay before a failed post is tried again; doubles up to a minute. */
  retryDelayMs?: number;
}

/**
 * Reports finished Jobs to their callbacks. It lists, then watches from the list's
 * resourceVersion, every Job ledgerflow manages in the namespace; a finished Job without
 * the `reported` annotation is posted (URL and token from the job's Secret) and then
 * annotated, so another instance or a restart does not post it again (a rare duplicate,
 * when two instances race, is harmless: the callback is idempotent per attempt). A failed
 * post is retried with a doubling delay while the Job exists and the watcher runs (and by
 * any later list); the orchestrator's status polls cover the meantime. Watches that end
 * are restarted with a fresh list.
 */
export class CompletionWatcher {
  private readonly batch: k8s.BatchV1Api;
  private readonly inFlight = new Set<string>();
  private controller: AbortController | undefined;
  private stopped = true;
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly retryTimers = new Map<string, NodeJS.Timeout>();
  private readonly post: CompletionPoster;
  private readonly retryDelayMs: number;

  constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly namespace: string,
    private readonly objects: ClusterObjects,
    private readonly log: Logger,
    options: CompletionWatcherOptions = {},
  ) {
    this.batch = kc.makeApiClient(k8s.BatchV1Api);
    this.post = options.post ?? postCompletion;
    this.retryDelayMs = options.retryDelayMs ?? 5_000;
  }

  async start(): Promise<() => void> {
    this.stopped = false;
    await this.listAndWatch();
    return () => this.stop();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    for (const timer of this.retryTimers.values()) clearTimeout(timer);
    this.retryTimers.clear();
    this.controller?.abort();
  }

  private async listAndWatch(): Promise<void> {
    const list = await this.batch.listNamespacedJob({ namespace: this.namespace, labelSelector: managedSelector });
    await Promise.all(list.items.map((job) => this.report(job)));
    if (this.stopped) return;
    const watch = new k8s.Watch(this.kc);
    this.controller = await watch.watch(
      `/apis/batch/v1/namespaces/${this.namespace}/jobs`,
      { labelSelector: managedSelector, resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true },
      (type: string, job: k8s.V1Job) => {
        if (type === 'ADDED' || type === 'MODIFIED') void this.report(job);
      },
      (err: unknown) => this.restart(err),
    );
    if (this.stopped) this.controller.abort();
  }

  private restart(err: unknown): void {
    if (this.stopped) return;
    if (err) this.log.warn({ err: errorMessage(err) }, 'job watch ended; restarting');
    this.restartTimer = setTimeout(() => {
      this.listAndWatch().catch((e: unknown) => this.restart(e));
    }, RESTART_DELAY_MS);
  }

  private retryLater(name: string, failures: number): void {
    if (this.stopped || this.retryTimers.has(name)) return;
    const delay = Math.min(this.retryDelayMs * 2 ** (failures - 1), MAX_RETRY_DELAY_MS);
    this.retryTimers.set(
      name,
      setTimeout(() => {
        this.retryTimers.delete(name);
        ignoreNotFound(this.batch.readNamespacedJob({ name, namespace: this.namespace }))
          .then((job) => (job === undefined ? undefined : this.report(job, failures)))
          .catch(() => this.retryLater(name, failures + 1));
      }, delay),
    );
  }

  private async report(job: k8s.V1Job, failures = 0): Promise<void> {
    const meta = job.metadata;
    const name = meta?.name;
    if (name === undefined || !isFinished(job) || meta?.annotations?.[ANNOTATIONS.reported] !== undefined || this.inFlight.has(name)) return;
    const workflowId = meta?.annotations?.[ANNOTATIONS.workflowId];
    const jobName = meta?.annotations?.[ANNOTATIONS.jobName];
    const attempt = Number(meta?.annotations?.[ANNOTATIONS.attempt]);
    if (workflowId === undefined || jobName === undefined || !Number.isInteger(attempt)) return;
    this.inFlight.add(name);
    const ids = { workflowId, jobName, attempt };
    try {
      const secret = await ignoreNotFound(
        this.objects.core.readNamespacedSecret({ name: names.callbackSecret(workflowId, jobName, attempt), namespace: this.namespace }),
      );
      const url = decode(secret?.data?.[CALLBACK_URL_KEY]);
      const token = decode(secret?.data?.[CALLBACK_TOKEN_KEY]);
      if (url === undefined || token === undefined) {
        this.log.warn(ids, 'finished job has no callback secret (run cleaned up?); not reported');
        return;
      }
      const observation = observeJob(job, await this.objects.findPod(`batch.kubernetes.io/job-name=${name}`));
      const report: CompletionReport = { ...ids, exitCode: observation.exitCode };
      if (observation.startedAt !== undefined) report.startedAt = observation.startedAt;
      if (observation.endedAt !== undefined) report.endedAt = observation.endedAt;
      await this.post(url, token, report);
      await ignoreNotFound(
        this.batch.patchNamespacedJob(
          { name, namespace: this.namespace, body: { metadata: { annotations: { [ANNOTATIONS.reported]: new Date().toISOString() } } } },
          mergePatch,
        ),
      );
      this.log.info({ ...ids, exitCode: report.exitCode }, 'job completion reported');
    } catch (err) {
      this.log.warn({ ...ids, err: errorMessage(err) }, 'job completion not reported; will retry');
      this.retryLater(name, failures + 1);
    } finally {
      this.inFlight.delete(name);
    }
  }
}

const decode = (b64: string | undefined) => (b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8'));
