import * as k8s from '@kubernetes/client-node';
import { LedgerflowError } from '../../../core/errors';

/**
 * KubeConfig from the settings: a kubeconfig file path, or the kubeconfig itself (YAML or
 * JSON: on Azure Functions the app setting can be a Key Vault reference to it, as there is
 * no file to point at), and an optional context; empty: the client's default chain
 * ($KUBECONFIG, ~/.kube/config, then the in-cluster service account).
 */
export function loadKubeConfig(options: { kubeconfig: string; context: string }): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  try {
    if (options.kubeconfig === '') kc.loadFromDefault();
    else if (/^\s*(\{|apiVersion:|kind:|clusters:)/.test(options.kubeconfig)) kc.loadFromString(options.kubeconfig);
    else kc.loadFromFile(options.kubeconfig);
    if (options.context !== '') kc.setCurrentContext(options.context);
  } catch (err) {
    throw new LedgerflowError('unavailable', 'cannot load the Kubernetes configuration (K8S_KUBECONFIG, K8S_CONTEXT)', { cause: err });
  }
  if (kc.getCurrentCluster() === null) throw new LedgerflowError('unavailable', 'the Kubernetes configuration names no cluster (K8S_KUBECONFIG, K8S_CONTEXT)');
  return kc;
}

export const isStatus = (err: unknown, code: number): boolean => err instanceof k8s.ApiException && err.code === code;

/** Runs `op`, treating 404 NotFound as done: deletes are idempotent. */
export async function ignoreNotFound<T>(op: Promise<T>): Promise<T | undefined> {
  try {
    return await op;
  } catch (err) {
    if (isStatus(err, 404)) return undefined;
    throw err;
  }
}

export const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
export const background = { propagationPolicy: 'Background' } as const;
