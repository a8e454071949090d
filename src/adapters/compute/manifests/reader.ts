import type { V1Pod } from '@kubernetes/client-node';
import { LABELS, names, runLabels } from './names';
import type { ClusterOptions } from './options';
import { containerSecurityContext, podSecurityContext } from './pod';
import { WORKSPACE_PATH } from './workspace';

export const ROLE_READER = 'reader';
/** Exit code of the reader when the file is absent (or not a regular file). */
export const READER_NOT_FOUND = 3;

/**
 * A pod that prints one workspace file, base64-encoded, to its log: the only way to read a
 * volume through the API without pods/exec. It mounts the workspace read-only and nothing
 * else, so a symlink planted by a job resolves inside this pod's own image, never into a
 * dataset. The path (checked relative by the caller) travels in the environment, not in
 * the shell text.
 */
export function readerPod(opts: ClusterOptions, workflowId: string, path: string): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: names.reader(workflowId, path), namespace: opts.namespace, labels: { ...runLabels(workflowId), [LABELS.role]: ROLE_READER } },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      activeDeadlineSeconds: 300,
      securityContext: podSecurityContext(opts),
      containers: [
        {
          name: 'main',
          image: opts.readerImage,
          command: ['/bin/sh', '-c', `[ -f "${WORKSPACE_PATH}/$LF_PATH" ] || exit ${READER_NOT_FOUND}; exec base64 "${WORKSPACE_PATH}/$LF_PATH"`],
          env: [{ name: 'LF_PATH', value: path }],
          volumeMounts: [{ name: 'workspace', mountPath: WORKSPACE_PATH, readOnly: true }],
          resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '200m', memory: '64Mi' } },
          securityContext: containerSecurityContext(),
        },
      ],
      volumes: [{ name: 'workspace', persistentVolumeClaim: { claimName: names.workspaceClaim(workflowId), readOnly: true } }],
    },
  };
}
