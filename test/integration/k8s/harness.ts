import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSettings } from '../../../src/config/settings';
import { loadKubeConfig } from '../../../src/adapters/compute/kubernetes/client';
import { clusterOptions, type ClusterOptions } from '../../../src/adapters/compute/manifests/options';
import { createLogger } from '../../../src/observability/logger';
import type { JobLaunch, ResolvedVolume } from '../../../src/ports/compute';
import { FakeKubernetesApi } from '../../fakes/kubernetesApi';

export const NAMESPACE = 'ledgerflow';
export const silent = createLogger({ level: 'silent' });

/** A running fake API server, a kubeconfig file for it, and cluster options from default settings. */
export async function cluster(settings: Record<string, string> = {}) {
  const fake = await new FakeKubernetesApi().start();
  const dir = mkdtempSync(join(tmpdir(), 'lf-k8s-'));
  const kubeConfig = loadKubeConfig({ kubeconfig: fake.writeKubeconfig(dir, NAMESPACE), context: '' });
  const options: ClusterOptions = clusterOptions(parseSettings({ K8S_NAMESPACE: NAMESPACE, ...settings }));
  return {
    fake,
    kubeConfig,
    options,
    async close() {
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ReceivedCallback {
  path: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** The job-completion callback: a tiny HTTP server that hands each POST to whoever waits. */
export async function callbackServer() {
  const received: ReceivedCallback[] = [];
  const waiters: ((c: ReceivedCallback) => void)[] = [];
  const counter = { posts: 0, failures: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      counter.posts++;
      if (counter.failures > 0) {
        counter.failures--;
        res.writeHead(503).end();
        return;
      }
      const cb = { path: req.url ?? '', headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> };
      res.writeHead(202).end();
      const waiter = waiters.shift();
      if (waiter) waiter(cb);
      else received.push(cb);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    counter,
    /** The next `n` posts are answered 503 and not delivered. */
    failNext: (n = 1) => {
      counter.failures += n;
    },
    next: () =>
      new Promise<ReceivedCallback>((resolve) => {
        const r = received.shift();
        if (r) resolve(r);
        else waiters.push(resolve);
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const AZURE_KEY = Buffer.from('not-a-real-account-key').toString('base64');

export const localVolume: ResolvedVolume = {
  datasetId: 'ds-local-uib',
  name: 'uib',
  mountPath: '/home/jovyan/uib',
  location: { kind: 'local', path: '/data/uib' },
};
export const azureVolume: ResolvedVolume = {
  datasetId: 'ds-azure-uis',
  name: 'uis',
  mountPath: '/home/jovyan/uis',
  location: { kind: 'azure-files', shareUrl: 'https://uisdata.file.core.windows.net/share-uis/2022', credentialRef: 'ds-azure-uis-credential' },
  credential: AZURE_KEY,
};

export function jobLaunch(callbackUrl: string, overrides: Partial<JobLaunch> = {}): JobLaunch {
  return {
    workflowId: 'wf-0001',
    jobName: 'count',
    jobIndex: 2,
    attempt: 1,
    command: 'python uis.py > result.txt',
    image: 'python:3.12-slim',
    env: { MODE: 'count' },
    volumes: [azureVolume, localVolume].map(({ datasetId, name, mountPath }) => ({ datasetId, name, mountPath })),
    resources: { cpu: '500m', memory: '256Mi' },
    timeoutSeconds: 600,
    callback: { url: `${callbackUrl}/api/workflows/wf-0001/jobs/count/complete`, token: 'cb-token-secret-value' },
    ...overrides,
  };
}
