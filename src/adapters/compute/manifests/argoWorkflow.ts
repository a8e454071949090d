import type { V1Container, V1ObjectMeta, V1PodSecurityContext, V1Volume } from '@kubernetes/client-node';
import type { JobLaunch } from '../../../ports/compute';
import { CALLBACK_TOKEN_KEY, CALLBACK_URL_KEY, jobAnnotations } from './job';
import { LABELS, names, runLabels } from './names';
import type { ClusterOptions } from './options';
import {
  containerSecurityContext,
  JOB_TERMINATION_GRACE_SECONDS,
  jobLabels,
  mainContainer,
  podSecurityContext,
  populateContainer,
  ROLE_NOTIFIER,
  runVolumes,
} from './pod';

/** The parts of argoproj.io/v1alpha1 Workflow that ledgerflow writes and reads. */
export interface ArgoParameter {
  name: string;
  value?: string;
}
export interface ArgoDagTask {
  name: string;
  template: string;
  dependencies?: string[];
  hooks?: Record<string, { template: string; arguments?: { parameters: ArgoParameter[] } }>;
}
export interface ArgoTemplate {
  name: string;
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  inputs?: { parameters: ArgoParameter[] };
  dag?: { tasks: ArgoDagTask[] };
  initContainers?: V1Container[];
  container?: V1Container;
  activeDeadlineSeconds?: number;
}
export interface ArgoNodeStatus {
  id: string;
  name: string;
  displayName?: string;
  type: string;
  phase?: string;
  startedAt?: string;
  finishedAt?: string;
  message?: string;
  templateName?: string;
  outputs?: { exitCode?: string };
}
export interface ArgoWorkflow {
  apiVersion: 'argoproj.io/v1alpha1';
  kind: 'Workflow';
  metadata: V1ObjectMeta;
  spec: {
    entrypoint: string;
    templates: ArgoTemplate[];
    volumes?: V1Volume[];
    securityContext?: V1PodSecurityContext;
    automountServiceAccountToken?: boolean;
    executor?: { serviceAccountName: string };
    podMetadata?: { labels?: Record<string, string> };
    activeDeadlineSeconds?: number;
    ttlStrategy?: { secondsAfterCompletion?: number };
    shutdown?: string;
    podSpecPatch?: string;
  };
  status?: { phase?: string; startedAt?: string; finishedAt?: string; message?: string; nodes?: Record<string, ArgoNodeStatus> };
}

export const ARGO_GROUP = 'argoproj.io';
export const ARGO_VERSION = 'v1alpha1';
export const ARGO_PLURAL = 'workflows';
const ENTRYPOINT = 'dag';
const notifyTemplate = (jobIndex: number) => `notify-${jobIndex}`;

/** A DAG of jobs to submit as one Workflow: a whole run, or one attempt of one job. */
export interface ArgoRun {
  name: string;
  workflowId: string;
  jobs: JobLaunch[];
  edges: { from: number; to: number }[];
  timeoutSeconds: number;
}

/**
 * One Workflow for a DAG: a task per job (its dependencies from the spec's edges), each
 * job's pod as in the Kubernetes backend, and on every task an `exit` lifecycle hook (the
 * per-task form of `onExit`) that posts the job's completion to its callback. The hook's
 * pod is the only one with network egress (role `notifier`); it reads the callback URL and
 * token from the job's Secret, so neither appears in the Workflow. Argo's own executor
 * runs with a separate service account; the jobs' containers get no token.
 */
export function argoWorkflow(opts: ClusterOptions, run: ArgoRun, subPaths: ReadonlyMap<string, string>): ArgoWorkflow {
  const jobTemplates = run.jobs.map((job): ArgoTemplate => ({
    name: names.task(job.jobIndex),
    metadata: { labels: jobLabels(job), annotations: jobAnnotations(job) },
    activeDeadlineSeconds: job.timeoutSeconds,
    initContainers: [populateContainer(job)],
    container: mainContainer(job, subPaths),
  }));
  const tasks = run.jobs.map((job): ArgoDagTask => {
    const task = names.task(job.jobIndex);
    const dependencies = run.edges
      .filter((e) => e.to === job.jobIndex)
      .map((e) => names.task(e.from))
      .sort();
    return {
      name: task,
      template: task,
      ...(dependencies.length === 0 ? {} : { dependencies }),
      hooks: {
        exit: {
          template: notifyTemplate(job.jobIndex),
          arguments: {
            parameters: [
              { name: 'exit-code', value: `{{tasks.${task}.exitCode}}` },
              { name: 'started-at', value: `{{tasks.${task}.startedAt}}` },
              { name: 'finished-at', value: `{{tasks.${task}.finishedAt}}` },
            ],
          },
        },
      },
    };
  });
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Workflow',
    metadata: { name: run.name, namespace: opts.namespace, labels: runLabels(run.workflowId), annotations: { 'ledgerflow.io/workflow-id': run.workflowId } },
    spec: {
      entrypoint: ENTRYPOINT,
      activeDeadlineSeconds: run.timeoutSeconds,
      ttlStrategy: { secondsAfterCompletion: opts.jobTtlSeconds },
      automountServiceAccountToken: false,
      executor: { serviceAccountName: opts.argoExecutorServiceAccount },
      securityContext: podSecurityContext(opts),
      podMetadata: { labels: runLabels(run.workflowId) },
      // The Workflow has no field of its own for the pods' grace period (see pod.ts).
      podSpecPatch: JSON.stringify({ terminationGracePeriodSeconds: JOB_TERMINATION_GRACE_SECONDS }),
      volumes: runVolumes(
        run.workflowId,
        run.jobs.flatMap((j) => j.volumes.map((v) => v.datasetId)),
      ),
      templates: [{ name: ENTRYPOINT, dag: { tasks } }, ...jobTemplates, ...run.jobs.map((job) => notifier(opts, job))],
    },
  };
}

/**
 * Posts `{workflowId, jobName, attempt, exitCode, startedAt, endedAt}` with the job's
 * bearer token. Argo leaves a task's exit code empty when its pod never ran: that is
 * reported as null, and times that are not timestamps are left out.
 */
export const NOTIFY_SCRIPT = [
  'set -eu',
  'case "$LF_EXIT_CODE" in ""|*[!0-9]*) code=null ;; *) code=$LF_EXIT_CODE ;; esac',
  'ts() { case "$2" in [0-9][0-9][0-9][0-9]-*) printf \',"%s":"%s"\' "$1" "$2" ;; esac; }',
  'body=$(printf \'{"workflowId":%s,"jobName":%s,"attempt":%s,"exitCode":%s%s%s}\' "$LF_WORKFLOW_ID_JSON" "$LF_JOB_NAME_JSON" "$LF_ATTEMPT" "$code" "$(ts startedAt "$LF_STARTED_AT")" "$(ts endedAt "$LF_ENDED_AT")")',
  'exec curl -fsS --retry 5 --retry-all-errors --max-time 30 -X POST -H "Authorization: Bearer $CALLBACK_TOKEN" -H "Content-Type: application/json" --data "$body" "$CALLBACK_URL"',
].join('\n');

function notifier(opts: ClusterOptions, job: JobLaunch): ArgoTemplate {
  const secret = names.callbackSecret(job.workflowId, job.jobName, job.attempt);
  return {
    name: notifyTemplate(job.jobIndex),
    metadata: { labels: { ...runLabels(job.workflowId), [LABELS.role]: ROLE_NOTIFIER } },
    inputs: { parameters: [{ name: 'exit-code' }, { name: 'started-at' }, { name: 'finished-at' }] },
    container: {
      name: 'main',
      image: opts.notifierImage,
      command: ['/bin/sh', '-c', NOTIFY_SCRIPT],
      env: [
        { name: 'CALLBACK_URL', valueFrom: { secretKeyRef: { name: secret, key: CALLBACK_URL_KEY } } },
        { name: 'CALLBACK_TOKEN', valueFrom: { secretKeyRef: { name: secret, key: CALLBACK_TOKEN_KEY } } },
        { name: 'LF_WORKFLOW_ID_JSON', value: JSON.stringify(job.workflowId) },
        { name: 'LF_JOB_NAME_JSON', value: JSON.stringify(job.jobName) },
        { name: 'LF_ATTEMPT', value: String(job.attempt) },
        { name: 'LF_EXIT_CODE', value: '{{inputs.parameters.exit-code}}' },
        { name: 'LF_STARTED_AT', value: '{{inputs.parameters.started-at}}' },
        { name: 'LF_ENDED_AT', value: '{{inputs.parameters.finished-at}}' },
      ],
      resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
      securityContext: containerSecurityContext(),
    },
  };
}
