import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ManagementUrls } from '../../../src/durable/clientConfig';
import type { StatusView } from '../../../src/durable/statusView';
import { durableFetch } from '../../../bench/support/durableApi';
import { eventually, repoRoot, startHost, type TestHost } from '../../../bench/support/host';

export { eventually };

/** The conformance app: JavaScript as Microsoft's v4-model samples are written (glob `main`). */
export const conformanceAppDir = join(repoRoot, 'test', 'conformance', 'durable', 'app');

export function startConformanceHost(): Promise<TestHost> {
  return startHost({ appDir: conformanceAppDir, settings: {} });
}

/** The check-status payload of a start (the extension's, without rewindPostUri). */
export type CheckStatus = Omit<ManagementUrls, 'rewindPostUri'>;
export type Status = StatusView;

/** Starts an orchestration through the app's own HTTP starter (the samples' httpStart). */
export async function startViaApp(host: TestHost, name: string, input?: unknown): Promise<CheckStatus> {
  const res = await fetch(`${host.url}/api/orchestrators/${name}`, { method: 'POST', body: input === undefined ? '' : JSON.stringify(input) });
  assert.equal(res.status, 202, await res.clone().text());
  return (await res.json()) as CheckStatus;
}

/** Follows the async HTTP API: polls the status URL until it stops answering 202. */
export async function finished(host: TestHost, id: string, query = ''): Promise<{ status: number; body: Status }> {
  return eventually(
    async () => {
      const res = await durableFetch(host, `instances/${encodeURIComponent(id)}${query}`);
      if (res.status === 202) return undefined;
      return { status: res.status, body: (await res.json()) as Status };
    },
    30_000,
    `instance ${id} to finish`,
  );
}
