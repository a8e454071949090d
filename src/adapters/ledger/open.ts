import type { Settings } from '../../config/settings';
import { LedgerflowError } from '../../core/errors';
import type { Logger } from '../../observability/logger';
import type { Ledger } from '../../ports/ledger';
import { startEmbeddedPeer, type EmbeddedPeer } from '../../ledger-peer/peer';
import { fabricLedgerFromSettings } from './index';

/**
 * The ledger as the composition root wants it: LEDGER=fabric talks to FABRIC_PEER_ENDPOINT;
 * LEDGER=embedded starts the embedded peer in this process (on a free loopback port, data
 * under LEDGERFLOW_DATA_DIR) unless FABRIC_PEER_ENDPOINT names a shared standalone one.
 * `close` stops both.
 */
export async function openLedger(settings: Settings, options: { logger?: Logger } = {}): Promise<{ ledger: Ledger; peer?: EmbeddedPeer; close(): Promise<void> }> {
  if (settings.LEDGER === 'fabric' && settings.FABRIC_PEER_ENDPOINT === '') {
    throw new LedgerflowError('validation_failed', 'invalid setting FABRIC_PEER_ENDPOINT: required when LEDGER=fabric');
  }
  const peer =
    settings.FABRIC_PEER_ENDPOINT === ''
      ? await startEmbeddedPeer({
          dataDir: settings.LEDGERFLOW_DATA_DIR,
          port: 0,
          channel: settings.FABRIC_CHANNEL,
          blockMaxTx: settings.LEDGER_BLOCK_MAX_TX,
          blockTimeoutMs: settings.LEDGER_BLOCK_TIMEOUT_MS,
          ...(options.logger === undefined ? {} : { logger: options.logger.child({ component: 'ledger-peer' }) }),
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
