import type { Settings } from '../../config/settings';
import { LedgerflowError } from '../../core/errors';
import type { Ledger } from '../../ports/ledger';
import type { EmbeddedPeer } from '../../ledger-peer/peer';
import { startEmbeddedPeerThread } from '../../ledger-peer/peerThread';
import { fabricLedgerFromSettings } from './index';

/**
 * The ledger as the composition root wants it: LEDGER=fabric talks to FABRIC_PEER_ENDPOINT;
 * LEDGER=embedded starts the embedded peer on a thread of this process (on a free loopback
 * port, data under LEDGERFLOW_DATA_DIR) unless FABRIC_PEER_ENDPOINT names a shared one.
 * `close` stops both.
 */
export async function openLedger(settings: Settings): Promise<{ ledger: Ledger; peer?: EmbeddedPeer; close(): Promise<void> }> {
  if (settings.LEDGER === 'fabric' && settings.FABRIC_PEER_ENDPOINT === '') {
    throw new LedgerflowError('validation_failed', 'invalid setting FABRIC_PEER_ENDPOINT: required when LEDGER=fabric');
  }
  const peer =
    settings.FABRIC_PEER_ENDPOINT === ''
      ? await startEmbeddedPeerThread({
          dataDir: settings.LEDGERFLOW_DATA_DIR,
          port: 0,
          channel: settings.FABRIC_CHANNEL,
          blockMaxTx: settings.LEDGER_BLOCK_MAX_TX,
          blockTimeoutMs: settings.LEDGER_BLOCK_TIMEOUT_MS,
          logLevel: settings.LOG_LEVEL,
        })
      : undefined;
  const ledger = fabricLedgerFromSettings(settings, peer);
  return {
    ledger,
    ...(peer === undefined ? {} : { peer }),
    close: async () => {
      await ledger.close();
      await peer?.stop();
    },
  };
}
