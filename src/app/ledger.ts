import type { Settings } from '../config/settings';
import type { Caller } from '../core/model';
import type { Logger } from '../observability/logger';
import type { Ledger } from '../ports/ledger';

// Required when the ledger is first built, not at app load: the Fabric gateway client, its
// protobufs and the embedded peer cost about half a second of every host start.
type AdapterModule = typeof import('../adapters/ledger');
type PeerThreadModule = typeof import('../ledger-peer/peerThread');

/**
 * The ledger the settings choose. One adapter (fabric-gateway) serves both: with LEDGER=fabric
 * or a FABRIC_PEER_ENDPOINT it talks to that peer; with LEDGER=embedded and no endpoint this
 * process starts the embedded peer on loopback first (on its own thread, so the peer and the
 * app use separate cores) and stops it on close.
 */
export async function createLedger(s: Settings, log: Logger): Promise<Ledger> {
  const { fabricLedgerFromSettings } = require('../adapters/ledger') as AdapterModule;
  if (s.LEDGER === 'fabric' || s.FABRIC_PEER_ENDPOINT !== '') return fabricLedgerFromSettings(s);
  const { startEmbeddedPeerThread } = require('../ledger-peer/peerThread') as PeerThreadModule;
  const peer = await startEmbeddedPeerThread({
    dataDir: s.LEDGERFLOW_DATA_DIR,
    channel: s.FABRIC_CHANNEL,
    blockMaxTx: s.LEDGER_BLOCK_MAX_TX,
    blockTimeoutMs: s.LEDGER_BLOCK_TIMEOUT_MS,
    logLevel: s.LOG_LEVEL,
  });
  log.info({ endpoint: peer.endpoint }, 'embedded ledger peer started');
  const ledger = fabricLedgerFromSettings(s, { endpoint: peer.endpoint, mspDir: peer.mspDir, ...(peer.tlsRootCert === undefined ? {} : { tlsRootCert: peer.tlsRootCert }) });
  return {
    as: (caller) => ledger.as(caller),
    events: (options) => ledger.events(options),
    close: async () => {
      await ledger.close();
      await peer.stop();
    },
  };
}

/** The identity platform transactions (lease expiry) are submitted as: FABRIC_SERVICE_IDENTITY. */
export function serviceCaller(s: Settings): Caller {
  const [user, org] = s.FABRIC_SERVICE_IDENTITY.split('@') as [string, string];
  return { user, org };
}
