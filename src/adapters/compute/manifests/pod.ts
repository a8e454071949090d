import type { V1Container, V1PodSecurityContext, V1SecurityContext, V1Volume } from '@kubernetes/client-node';
import type { JobLaunch } from '../../../ports/compute';
import { LABELS, labelValue, names, runLabels } from './names';
import type { ClusterOptions } from './options';
import { CODE_PATH, POPULATE_SCRIPT, WORKSPACE_PATH } from './workspace';

/**
 * The pod of one job, shared by the Kubernetes Job and the Argo template: Pod Security
 * "restricted" (non-root, no privilege escalation, no capabilities, RuntimeDefault
 * seccomp), a read-only root file system with a writable /tmp, the workspace as working
 * directory, datasets read-only at the paths the spec names, and no service account token.
 */
export const ROLE_JOB = 'job';

/**
 * Seconds a job's containers get between SIGTERM and SIGKILL when their pod is deleted
 * (cancel, a revoked lease). Kubernetes' default is 30: a hostile job that ignores SIGTERM
 * would read a revoked dataset that long. A job has nothing to save (its outputs are in the
 * workspace as it writes them), so it gets the shortest the kubelet honours.
 */
export const JOB_TERMINATION_GRACE_SECONDS = 1;
export const ROLE_NOTIFIER = 'notifier';
const WORKSPACE_VOLUME = 'workspace';
const CODE_VOLUME = 'code';
const TMP_VOLUME = 'tmp';

export function podSecurityContext(opts: ClusterOptions): V1PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: opts.runAsUser,
    runAsGroup: opts.runAsUser,
    fsGroup: opts.runAsUser,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export function containerSecurityContext(): V1SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

export function jobLabels(job: Pick<JobLaunch, 'workflowId' | 'jobName' | 'attempt'>): Record<string, string> {
  return {
    ...runLabels(job.workflowId),
    [LABELS.role]: ROLE_JOB,
    [LABELS.jobName]: labelValue(job.jobName),
    [LABELS.attempt]: String(job.attempt),
  };
}

/** Volumes of a run's pods: workspace, code, /tmp, and the given datasets. */
export function runVolumes(workflowId: string, datasetIds: Iterable<string>): V1Volume[] {
  return [
    { name: WORKSPACE_VOLUME, persistentVolumeClaim: { claimName: names.workspaceClaim(workflowId) } },
    { name: CODE_VOLUME, configMap: { name: names.codeConfigMap(workflowId) } },
    { name: TMP_VOLUME, emptyDir: { sizeLimit: '256Mi' } },
    ...[...new Set(datasetIds)].sort().map((id) => ({
      name: names.datasetPodVolume(id),
      persistentVolumeClaim: { claimName: names.datasetVolume(workflowId, id), readOnly: true },
    })),
  ];
}

/** Copies the code files into the workspace before the job runs, with the job's own image (it has /bin/sh). */
export function populateContainer(job: JobLaunch): V1Container {
  return {
    name: 'workspace',
    image: job.image,
    command: ['/bin/sh', `${CODE_PATH}/${POPULATE_SCRIPT}`],
    volumeMounts: [
      { name: WORKSPACE_VOLUME, mountPath: WORKSPACE_PATH },
      { name: CODE_VOLUME, mountPath: CODE_PATH, readOnly: true },
    ],
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
    securityContext: containerSecurityContext(),
  };
}

/** The job's own container; `subPaths` maps a dataset id to the directory to mount inside its share. */
export function mainContainer(job: JobLaunch, subPaths: ReadonlyMap<string, string>): V1Container {
  const limits: Record<string, string> = {};
  if (job.resources.cpu !== undefined) limits['cpu'] = job.resources.cpu;
  if (job.resources.memory !== undefined) limits['memory'] = job.resources.memory;
  return {
    name: 'main',
    image: job.image,
    command: ['/bin/sh', '-c', job.command],
    workingDir: WORKSPACE_PATH,
    env: [
      { name: 'HOME', value: WORKSPACE_PATH },
      { name: 'TMPDIR', value: '/tmp' },
      ...Object.entries(job.env)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, value]) => ({ name, value })),
    ],
    volumeMounts: [
      { name: WORKSPACE_VOLUME, mountPath: WORKSPACE_PATH },
      { name: TMP_VOLUME, mountPath: '/tmp' },
      ...job.volumes.map((v) => {
        const subPath = subPaths.get(v.datasetId);
        return { name: names.datasetPodVolume(v.datasetId), mountPath: v.mountPath, readOnly: true, ...(subPath === undefined ? {} : { subPath }) };
      }),
    ],
    // Requests equal limits: a job gets what it asked for and nothing more.
    resources: Object.keys(limits).length === 0 ? {} : { requests: { ...limits }, limits },
    securityContext: containerSecurityContext(),
  };
}
