import { readFileSync } from 'node:fs';
import type { Settings } from '../../config/settings';
import { LedgerflowError } from '../../core/errors';
import { FabricLedger } from './fabricLedger';
import { fileIdentities, type IdentityResolver } from './identities';

export { FabricLedger, type FabricLedgerOptions } from './fabricLedger';
export { fileIdentities, type IdentityResolver, type LedgerIdentity } from './identities';
export * from './errors';

/**
 * Builds the Ledger from settings. With FABRIC_PEER_ENDPOINT empty the caller (the
 * composition root) passes the endpoint of the embedded peer it started. Identities are the
 * provisioned ones of FABRIC_IDENTITY_DIR, else the resolver the caller passes (the embedded
 * peer's issuing CAs): this adapter never issues identities itself.
 */
export function fabricLedgerFromSettings(
  settings: Settings,
  embedded: { endpoint?: string; tlsRootCert?: string; identities?: IdentityResolver } = {},
): FabricLedger {
  const endpoint = settings.FABRIC_PEER_ENDPOINT || embedded.endpoint;
  if (endpoint === undefined) {
    throw new LedgerflowError('validation_failed', 'invalid setting FABRIC_PEER_ENDPOINT: required unless the embedded peer is started');
  }
  const tlsRootCert = settings.FABRIC_TLS_ROOT_CERT ? readSetting('FABRIC_TLS_ROOT_CERT', settings.FABRIC_TLS_ROOT_CERT) : embedded.tlsRootCert;
  const [user, org] = settings.FABRIC_SERVICE_IDENTITY.split('@') as [string, string];
  const identities = settings.FABRIC_IDENTITY_DIR ? fileIdentities(settings.FABRIC_IDENTITY_DIR, settings.FABRIC_MSP_IDS) : embedded.identities;
  if (identities === undefined) {
    throw new LedgerflowError('validation_failed', 'invalid setting FABRIC_IDENTITY_DIR: required unless the embedded peer issues identities');
  }
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
