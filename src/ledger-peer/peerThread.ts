import { once } from 'node:events';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import type { EmbeddedPeer, EmbeddedPeerOptions } from './peer';

/**
 * The embedded peer on its own thread, for a host that embeds it: endorsement, chaincode
 * and validation then use another core than the host's functions and durable engine, and
 * the app still reaches the peer over loopback gRPC as it would a Fabric network.
 */
export type PeerThreadOptions = Omit<EmbeddedPeerOptions, 'chaincodes' | 'logger'> & { logLevel?: string };

const MARK = 'ledgerflowPeerThread';

type Started = { ok: true; endpoint: string; tlsRootCert?: string; channel: string; mspDir: string } | { ok: false; error: string };

export async function startEmbeddedPeerThread(options: PeerThreadOptions): Promise<EmbeddedPeer> {
  const worker = new Worker(join(__dirname, 'peerThread.js'), { workerData: { [MARK]: true, ...options } });
  const [started] = (await Promise.race([once(worker, 'message'), once(worker, 'error').then(([err]) => [{ ok: false, error: String(err) }])])) as [Started];
  if (!started.ok) {
    await worker.terminate();
    throw new Error(`the embedded peer did not start: ${started.error}`);
  }
  let stopped: Promise<void> | undefined;
  return {
    endpoint: started.endpoint,
    ...(started.tlsRootCert === undefined ? {} : { tlsRootCert: started.tlsRootCert }),
    channel: started.channel,
    mspDir: started.mspDir,
    stop: () => {
      stopped ??= (async () => {
        worker.postMessage('stop');
        await once(worker, 'exit');
      })();
      return stopped;
    },
  };
}

if (!isMainThread && parentPort !== null && (workerData as Record<string, unknown> | undefined)?.[MARK] === true) {
  const port = parentPort;
  const { logLevel, [MARK]: _mark, ...options } = workerData as PeerThreadOptions & { [MARK]: true };
  let peer: EmbeddedPeer | undefined;
  // Required here, on the peer's thread only: the host's thread that starts it never runs the
  // peer, and loading it there (protobufs, CA, chaincode) cost a fifth of the host's start.
  const { startEmbeddedPeer } = require('./peer') as typeof import('./peer');
  const { createLogger } = require('../observability/logger') as typeof import('../observability/logger');
  startEmbeddedPeer({ ...options, logger: createLogger({ name: 'ledger-peer', ...(logLevel === undefined ? {} : { level: logLevel }) }) }).then(
    (p) => {
      peer = p;
      const started: Started = {
        ok: true,
        endpoint: p.endpoint,
        channel: p.channel,
        mspDir: p.mspDir,
        ...(p.tlsRootCert === undefined ? {} : { tlsRootCert: p.tlsRootCert }),
      };
      port.postMessage(started);
    },
    (err: unknown) => port.postMessage({ ok: false, error: err instanceof Error ? err.message : String(err) } satisfies Started),
  );
  port.on('message', (message: unknown) => {
    if (message !== 'stop') return;
    void (peer?.stop() ?? Promise.resolve()).finally(() => port.close());
  });
}
