import type { V1ConfigMap, V1PersistentVolumeClaim } from '@kubernetes/client-node';
import { LedgerflowError, validationError, type ErrorDetail } from '../../../core/errors';
import { relativePathProblem } from '../../../core/relativePath';
import { LABELS, names, runLabels } from './names';
import type { ClusterOptions } from './options';

/**
 * A run's workspace: a writable claim, filled from a ConfigMap of the submitted code files
 * by an init container in every job pod (`populate.sh`, generated here, copies each file
 * unless it is already there, so outputs of earlier jobs are never overwritten).
 *
 * Why a ConfigMap: the files are the consumer's code, not secrets, so a Secret would only
 * widen what the service account must read; a ConfigMap is mounted without any API access
 * from the pod (jobs get no token), needs no extra image, and is immutable. The price is
 * its 1 MiB limit, checked here. Copying with `kubectl cp` would need pods/exec, a far
 * broader permission than creating a ConfigMap.
 */
export const WORKSPACE_PATH = '/workspace';
export const CODE_PATH = '/ledgerflow/code';
export const POPULATE_SCRIPT = 'populate.sh';
/** ConfigMaps are stored in etcd, which caps an object at about 1 MiB. */
export const MAX_CODE_BYTES = 1_000_000;

/** Role label of the workspace claim, which a cleanup keeps while the run's results await review. */
export const ROLE_WORKSPACE = 'workspace';

export function workspaceClaim(opts: ClusterOptions, workflowId: string): V1PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: names.workspaceClaim(workflowId), namespace: opts.namespace, labels: { ...runLabels(workflowId), [LABELS.role]: ROLE_WORKSPACE } },
    spec: {
      accessModes: [opts.workspace.accessMode],
      resources: { requests: { storage: opts.workspace.size } },
      ...(opts.workspace.storageClass === '' ? {} : { storageClassName: opts.workspace.storageClass }),
    },
  };
}

export function codeConfigMap(opts: ClusterOptions, workflowId: string, files: Record<string, string>): V1ConfigMap {
  const paths = Object.keys(files).sort();
  const problems = paths.flatMap((p): ErrorDetail[] => {
    const problem = relativePathProblem(p);
    return problem === undefined ? [] : [{ path: `files.${p}`, message: problem }];
  });
  if (problems.length > 0) throw validationError('invalid workspace file paths', problems);
  const data: Record<string, string> = { [POPULATE_SCRIPT]: populateScript(paths) };
  paths.forEach((p, i) => {
    data[`f${i}`] = files[p]!;
  });
  const size = Object.values(data).reduce((n, v) => n + Buffer.byteLength(v), 0);
  if (size > MAX_CODE_BYTES) {
    throw new LedgerflowError('payload_too_large', `the workflow's files take ${size} bytes; Kubernetes runs accept at most ${MAX_CODE_BYTES}`);
  }
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: names.codeConfigMap(workflowId), namespace: opts.namespace, labels: runLabels(workflowId) },
    immutable: true,
    data,
  };
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function populateScript(paths: string[]): string {
  const lines = paths.map((p, i) => {
    const target = shellQuote(`${WORKSPACE_PATH}/${p}`);
    const dir = p.includes('/') ? `mkdir -p ${shellQuote(`${WORKSPACE_PATH}/${p.slice(0, p.lastIndexOf('/'))}`)} && ` : '';
    return `[ -e ${target} ] || { ${dir}cp ${CODE_PATH}/f${i} ${target}; }`;
  });
  return ['set -eu', ...lines, ''].join('\n');
}
