import type { CompletionReport } from '../../api/messages';

/**
 * How a backend that runs beside the app (the local runner, the Kubernetes completion
 * watcher) reports a job's end to the job callback: the contract's report, the attempt's
 * callback token as bearer. One sender for both, so their reports cannot differ. (The Argo
 * exit hook sends the same body from inside the cluster: manifests/argoWorkflow.ts.)
 */
export type CompletionPoster = (url: string, token: string, report: CompletionReport) => Promise<void>;

export function completionPoster(timeoutMs: number): CompletionPoster {
  return async (url, token, report) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(report),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`callback answered ${res.status}`);
  };
}
