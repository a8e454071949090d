import { createHash } from 'node:crypto';

/**
 * Deterministic object names and labels. Every name derives from (workflowId, jobName,
 * attempt) alone, so a launch retried after a crash or a lost reply creates the same
 * objects and meets 409 AlreadyExists instead of duplicates. Ids are hashed into names
 * because workflow ids and job names need not be DNS-1123 labels; the readable values go
 * into labels when they are valid label values, and always into annotations.
 */
const hash = (value: string, length: number) => createHash('sha256').update(value).digest('hex').slice(0, length);

/** Short key of a run: prefix of every object name of that run. */
export const runKey = (workflowId: string) => `lf-${hash(workflowId, 12)}`;

/** Lower-case DNS-1123 fragment of a free-form name (at most `max` characters). */
function slug(value: string, max: number): string {
  const s = value
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/, '');
  return s === '' ? 'job' : s;
}

export const names = {
  workspaceClaim: (workflowId: string) => `${runKey(workflowId)}-ws`,
  codeConfigMap: (workflowId: string) => `${runKey(workflowId)}-code`,
  /** PV and PVC of one dataset in one run (bound 1:1, so they share the name). */
  datasetVolume: (workflowId: string, datasetId: string) => `${runKey(workflowId)}-ds-${hash(datasetId, 10)}`,
  /** Name of a dataset's volume inside a pod spec. */
  datasetPodVolume: (datasetId: string) => `ds-${hash(datasetId, 10)}`,
  datasetSecret: (workflowId: string, datasetId: string) => `${runKey(workflowId)}-ds-${hash(datasetId, 10)}-cred`,
  /** Kubernetes Job (or single-job Argo Workflow) of one attempt; at most 52 characters so pod names fit in 63. */
  job: (workflowId: string, jobName: string, attempt: number) => `${runKey(workflowId)}-${slug(jobName, 16)}-${hash(jobName, 6)}-a${attempt}`,
  callbackSecret: (workflowId: string, jobName: string, attempt: number) => `${names.job(workflowId, jobName, attempt)}-cb`,
  /** The Argo Workflow that runs a whole DAG. */
  runWorkflow: (workflowId: string) => `${runKey(workflowId)}-dag`,
  /** Argo task (and template) of a job: DNS-safe and unique per index. */
  task: (jobIndex: number) => `job-${jobIndex}`,
  /** Pod that reads one file out of the workspace. Reader pods are one per read, not per
   * (workflowId, path) like the objects above: two clients reading the same file, or two
   * owners releasing at once, must not delete each other's pod; `nonce` tells them apart. */
  reader: (workflowId: string, path: string, nonce: string) => `${runKey(workflowId)}-read-${hash(path, 10)}-${nonce}`,
  /** Pod that lists and hashes the workspace's files (the run's output manifest); one per listing, as `reader`. */
  lister: (workflowId: string, nonce: string) => `${runKey(workflowId)}-list-${nonce}`,
} as const;

export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  run: 'ledgerflow.io/run',
  workflowId: 'ledgerflow.io/workflow-id',
  jobName: 'ledgerflow.io/job-name',
  attempt: 'ledgerflow.io/attempt',
  /** Selected by the NetworkPolicies in infra/k8s: `job` pods get no network, `notifier` pods only egress. */
  role: 'ledgerflow.io/role',
} as const;

export const ANNOTATIONS = {
  workflowId: 'ledgerflow.io/workflow-id',
  jobName: 'ledgerflow.io/job-name',
  attempt: 'ledgerflow.io/attempt',
  datasetId: 'ledgerflow.io/dataset-id',
  /** Set on a Job once its completion has been posted to the callback. */
  reported: 'ledgerflow.io/reported',
} as const;

export const MANAGED_BY = 'ledgerflow';

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/** The value itself when it is a valid label value, else a hash of it (selectors use the run key anyway). */
export const labelValue = (value: string) => (value.length <= 63 && LABEL_VALUE.test(value) ? value : `h-${hash(value, 20)}`);

/** Labels every object of a run carries, so cleanup can select them all. */
export const runLabels = (workflowId: string): Record<string, string> => ({
  [LABELS.managedBy]: MANAGED_BY,
  [LABELS.run]: runKey(workflowId),
  [LABELS.workflowId]: labelValue(workflowId),
});

export const runSelector = (workflowId: string) => `${LABELS.run}=${runKey(workflowId)}`;
export const managedSelector = `${LABELS.managedBy}=${MANAGED_BY}`;
