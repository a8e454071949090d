import * as k8s from '@kubernetes/client-node';
import { LedgerflowError } from '../../../core/errors';
import { LABELS } from '../manifests/names';

/** Waits, through a watch, until the named pod satisfies `done`; rejects after `timeoutMs`. */
export async function waitForPod(
  kc: k8s.KubeConfig,
  namespace: string,
  name: string,
  done: (pod: k8s.V1Pod) => boolean,
  timeoutMs = 300_000,
): Promise<k8s.V1Pod> {
  const watch = new k8s.Watch(kc);
  let controller: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<k8s.V1Pod>((resolve, reject) => {
      timer = setTimeout(() => reject(new LedgerflowError('unavailable', `pod ${name} did not finish in time`)), timeoutMs);
      // Reader pods carry the run label only; the field selector narrows to this one pod.
      watch
        .watch(
          `/api/v1/namespaces/${namespace}/pods`,
          { fieldSelector: `metadata.name=${name}`, labelSelector: LABELS.role },
          (type: string, pod: k8s.V1Pod) => {
            if (pod.metadata?.name !== name) return;
            if (type === 'DELETED') reject(new LedgerflowError('unavailable', `pod ${name} was deleted`));
            else if (done(pod)) resolve(pod);
          },
          (err: unknown) => {
            if (err) reject(err);
          },
        )
        .then((c) => {
          controller = c;
        }, reject);
    });
  } finally {
    clearTimeout(timer);
    controller?.abort();
  }
}
