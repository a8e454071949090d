import { join } from 'node:path';
import type { IdentityResolver } from '../adapters/ledger/identities';
import { jsonSetting, type Settings } from '../config/settings';
import { principalOrgMapSchema, tokensSchema } from '../core/auth/credentials';
import type { Caller } from '../core/model';
import type { Logger } from '../observability/logger';
import type { Ledger } from '../ports/ledger';

// Required when the ledger is first built, not at app load: the Fabric gateway client, its
// protobufs and the embedded peer cost about half a second of every host start.
type AdapterModule = typeof import('../adapters/ledger');
type PeerThreadModule = typeof import('../ledger-peer/peerThread');
type IssuingModule = typeof import('../ledger-peer/issuingIdentities');

/** The embedded peer's issuing CAs: identities on demand, where no provisioned ones are set. */
function issuing(s: Settings, mspDir: string): { identities?: IdentityResolver } {
  if (s.FABRIC_IDENTITY_DIR !== '') return {};
  const { issuingIdentities } = require('../ledger-peer/issuingIdentities') as IssuingModule;
  return { identities: issuingIdentities(mspDir, serviceCaller(s)) };
}

/**
 * The ledger the settings choose. One adapter (fabric-gateway) serves both: with LEDGER=fabric
 * or a FABRIC_PEER_ENDPOINT it talks to that peer; with LEDGER=embedded and no endpoint this
 * process starts the embedded peer on loopback first (on its own thread, so the peer and the
 * app use separate cores) and stops it on close.
 */
export async function createLedger(s: Settings, log: Logger): Promise<Ledger> {
  const { fabricLedgerFromSettings } = require('../adapters/ledger') as AdapterModule;
  // A peer of its own at FABRIC_PEER_ENDPOINT (tests, `ledgerflow-peer`) may still use the
  // local CAs of the data dir, as the embedded one does.
  if (s.LEDGER === 'fabric' || s.FABRIC_PEER_ENDPOINT !== '') {
    return fabricLedgerFromSettings(s, s.LEDGER === 'fabric' ? {} : issuing(s, join(s.LEDGERFLOW_DATA_DIR, 'ledger', 'msp')));
  }
  const { startEmbeddedPeerThread } = require('../ledger-peer/peerThread') as PeerThreadModule;
  const peer = await startEmbeddedPeerThread({
    dataDir: s.LEDGERFLOW_DATA_DIR,
    channel: s.FABRIC_CHANNEL,
    blockMaxTx: s.LEDGER_BLOCK_MAX_TX,
    blockTimeoutMs: s.LEDGER_BLOCK_TIMEOUT_MS,
    orgs: channelOrgs(s),
    endorsementPolicy: s.LEDGER_ENDORSEMENT_POLICY,
    logLevel: s.LOG_LEVEL,
  });
  log.info({ endpoint: peer.endpoint }, 'embedded ledger peer started');
  const ledger = fabricLedgerFromSettings(s, {
    endpoint: peer.endpoint,
    ...issuing(s, peer.mspDir),
    ...(peer.tlsRootCert === undefined ? {} : { tlsRootCert: peer.tlsRootCert }),
  });
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

/** The organizations a new embedded ledger's channel starts with: LEDGER_ORGS, those the
 * bearer tokens and App Service principals map to, and the platform's own. */
export function channelOrgs(s: Settings): string[] {
  const tokens = Object.values(jsonSetting(s.LEDGERFLOW_TOKENS, tokensSchema, {})).map((t) => t.org);
  const principals = Object.values(jsonSetting(s.AUTH_PRINCIPAL_ORGS, principalOrgMapSchema, {}));
  const listed = s.LEDGER_ORGS.split(',').map((o) => o.trim());
  return [...new Set([...listed, ...tokens, ...principals, serviceCaller(s).org])].filter((o) => o !== '').sort();
}
