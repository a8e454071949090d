import { checkNames, type IdentityResolver } from '../adapters/ledger/identities';
import { newEcdsaSigner } from '../adapters/ledger/ecdsa';
import type { Caller } from '../core/model';
import { getOrIssueIdentity, PLATFORM_ATTRIBUTES } from './localCa';

/**
 * Identities for the embedded peer: issued on first use by its CAs (`<dataDir>/ledger/msp`)
 * in the layout the adapter's file identities read. Lives with the peer so that the
 * production adapter never loads the local CA; the composition root wires it in only when
 * no provisioned identities (FABRIC_IDENTITY_DIR) are configured.
 */
export function issuingIdentities(mspDir: string, platform?: Caller): IdentityResolver {
  return async ({ org, user }) => {
    checkNames(org, user);
    // The `platform` caller's certificate carries the platform role (`ledgerflow.role=platform`),
    // as Fabric CA issues it in production (see FABRIC_SERVICE_IDENTITY).
    const isPlatform = platform !== undefined && platform.org === org && platform.user === user;
    const files = await getOrIssueIdentity(mspDir, org, user, isPlatform ? PLATFORM_ATTRIBUTES : undefined);
    return { mspId: files.mspId, certPem: files.certPem, signer: newEcdsaSigner(files.keyPem) };
  };
}
