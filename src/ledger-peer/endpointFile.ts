import { join } from 'node:path';

/** Where a running embedded peer says how to reach it, so a local client (`ledgerflow receipt
 * verify`) can query the ledger of a data dir without asking the host: `{endpoint, channel,
 * tlsRootCert?}`. Removed when the peer stops; a stale one (after a crash) names a port
 * nothing answers on. Its own module, so a client finds it without loading the peer. */
export function peerEndpointFile(dataDir: string): string {
  return join(dataDir, 'ledger', 'peer.json');
}
