import { eventually } from '../../bench/support/host';
import { DatasetsApi, TOKENS, type Reply, type Who } from '../integration/datasets/client';

/**
 * The hostile-job suite's client: a real embedded host with the ledgerflow app, local
 * compute in the real sandbox, driven over HTTP as an attacker would. Each test submits a
 * workflow whose job tries to break out, then checks the host (files, /proc, responses).
 */
export { DatasetsApi, TOKENS as TOKENS_OF, type Reply, type Who };

export const SANDBOXES = ['bwrap', 'unshare'] as const;

/** Settings every hostile host runs with: local compute, quick status polls. */
export function hostileSettings(extra: Record<string, string> = {}): Record<string, string> {
  return { COMPUTE: 'local', WORKFLOW_STATUS_POLL_SECONDS: '1', LEASE_EXPIRY_SCHEDULE: '0 0 0 1 1 *', ...extra };
}

export interface RunResult {
  id: string;
  status: string;
  view: Reply['body'];
}

const FINISHED = new Set(['Succeeded', 'Failed', 'Canceled', 'Rejected']);

/** Submits `workflow` (YAML) with `files` as `who` and waits until the run ends. */
export async function runWorkflow(api: DatasetsApi, who: Who, workflow: string, files: Record<string, string> = {}, timeoutMs = 60_000): Promise<RunResult> {
  const id = await submit(api, who, workflow, files);
  const view = await eventually(
    async () => {
      const r = await api.call(who, 'GET', `/workflows/${id}`);
      return FINISHED.has(r.body?.status) ? r.body : undefined;
    },
    timeoutMs,
    `workflow ${id} to end`,
  );
  return { id, status: view.status, view };
}

export async function submit(api: DatasetsApi, who: Who, workflow: string, files: Record<string, string> = {}): Promise<string> {
  const r = await api.call(who, 'POST', '/workflows', { workflow, files });
  if (r.status !== 202) throw new Error(`submit answered ${r.status}: ${r.text}`);
  return r.body.id as string;
}

/** A one-job workflow running `command` (YAML-quoted). */
export function oneJob(command: string, extra = ''): string {
  return `jobs:\n  - command: ${JSON.stringify(command)}\n${extra}`;
}

export async function jobLog(api: DatasetsApi, who: Who, id: string, job = 'job-1'): Promise<string> {
  const r = await api.call(who, 'GET', `/workflows/${id}/jobs/${job}/logs`);
  return r.text;
}
