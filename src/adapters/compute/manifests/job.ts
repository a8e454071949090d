import type { V1Job, V1Secret } from '@kubernetes/client-node';
import type { JobLaunch } from '../../../ports/compute';
import { ANNOTATIONS, names, runLabels } from './names';
import type { ClusterOptions } from './options';
import { JOB_TERMINATION_GRACE_SECONDS, jobLabels, mainContainer, podSecurityContext, populateContainer, runVolumes } from './pod';

/** Annotations that let the completion watcher rebuild the callback body from the Job alone. */
export function jobAnnotations(job: Pick<JobLaunch, 'workflowId' | 'jobName' | 'attempt'>): Record<string, string> {
  return { [ANNOTATIONS.workflowId]: job.workflowId, [ANNOTATIONS.jobName]: job.jobName, [ANNOTATIONS.attempt]: String(job.attempt) };
}

/**
 * One attempt of one job as a batch/v1 Job: no retries of its own (`backoffLimit: 0`;
 * retries belong to the orchestrator), the job's timeout as `activeDeadlineSeconds`, and a
 * TTL so a forgotten Job does not linger (cleanup deletes it sooner).
 */
export function batchJob(opts: ClusterOptions, job: JobLaunch, subPaths: ReadonlyMap<string, string>): V1Job {
  const labels = jobLabels(job);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: names.job(job.workflowId, job.jobName, job.attempt), namespace: opts.namespace, labels, annotations: jobAnnotations(job) },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: job.timeoutSeconds,
      ttlSecondsAfterFinished: opts.jobTtlSeconds,
      template: {
        metadata: { labels, annotations: jobAnnotations(job) },
        spec: {
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: JOB_TERMINATION_GRACE_SECONDS,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurityContext(opts),
          initContainers: [populateContainer(job)],
          containers: [mainContainer(job, subPaths)],
          volumes: runVolumes(
            job.workflowId,
            job.volumes.map((v) => v.datasetId),
          ),
        },
      },
    },
  };
}

export const CALLBACK_URL_KEY = 'url';
export const CALLBACK_TOKEN_KEY = 'token';

/**
 * Where and with what token a job's completion is reported. Kept in a Secret (never in a
 * Job or Workflow spec, which many can read) so that the completion watcher of any
 * instance, or Argo's exit hook inside the cluster, can report it; deleted at cleanup.
 */
export function callbackSecret(opts: ClusterOptions, job: JobLaunch): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: names.callbackSecret(job.workflowId, job.jobName, job.attempt),
      namespace: opts.namespace,
      labels: runLabels(job.workflowId),
      annotations: jobAnnotations(job),
    },
    type: 'Opaque',
    stringData: { [CALLBACK_URL_KEY]: job.callback.url, [CALLBACK_TOKEN_KEY]: job.callback.token },
  };
}
