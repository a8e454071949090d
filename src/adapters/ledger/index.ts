import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Settings } from '../../config/settings';
import { LedgerflowError } from '../../core/errors';
import { FabricLedger } from './fabricLedger';
import { fileIdentities, issuingIdentities } from './identities';

export { FabricLedger, type FabricLedgerOptions } from './fabricLedger';
export { fileIdentities, issuingIdentities, type IdentityResolver, type LedgerIdentity } from './identities';
export * from './errors';

/**
 * Builds the Ledger from settings. With FABRIC_PEER_ENDPOINT empty the caller (the embedded
 * host) passes the endpoint of the embedded peer it started; identities then come from that
 * peer's CAs in the data dir unless FABRIC_IDENTITY_DIR names provisioned ones.
 */
export function fabricLedgerFromSettings(settings: Settings, embedded?: { endpoint: string; tlsRootCert?: string; mspDir: string }): FabricLedger {
  const endpoint = settings.FABRIC_PEER_ENDPOINT || embedded?.endpoint;
  if (endpoint === undefined) {
    throw new LedgerflowError('validation_failed', 'invalid setting FABRIC_PEER_ENDPOINT: required unless the embedded peer is started');
  }
  const tlsRootCert = settings.FABRIC_TLS_ROOT_CERT ? readSetting('FABRIC_TLS_ROOT_CERT', settings.FABRIC_TLS_ROOT_CERT) : embedded?.tlsRootCert;
  const [user, org] = settings.FABRIC_SERVICE_IDENTITY.split('@') as [string, string];
  const identities = settings.FABRIC_IDENTITY_DIR
    ? fileIdentities(settings.FABRIC_IDENTITY_DIR, settings.FABRIC_MSP_IDS)
    : issuingIdentities(embedded?.mspDir ?? join(settings.LEDGERFLOW_DATA_DIR, 'ledger', 'msp'), { user, org });
  return new FabricLedger({
    endpoint,
    ...(tlsRootCert === undefined ? {} : { tlsRootCert }),
    ...(settings.FABRIC_TLS_SERVER_NAME ? { tlsServerName: settings.FABRIC_TLS_SERVER_NAME } : {}),
    channel: settings.FABRIC_CHANNEL,
    chaincode: settings.FABRIC_CHAINCODE,
    identities,
    serviceCaller: { user, org },
  });
}

function readSetting(name: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new LedgerflowError('validation_failed', `invalid setting ${name}: cannot read ${path}`, { cause: err });
  }
}
