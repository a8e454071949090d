import { checkNames, type IdentityResolver } from '../adapters/ledger/identities';
import { newEcdsaSigner } from '../adapters/ledger/ecdsa';
import { getOrIssueIdentity } from './localCa';

/**
 * Identities for the embedded peer: issued on first use by its CAs (`<dataDir>/ledger/msp`)
 * in the layout the adapter's file identities read. Lives with the peer so that the
 * production adapter never loads the local CA; the composition root wires it in only when
 * no provisioned identities (FABRIC_IDENTITY_DIR) are configured.
 */
export function issuingIdentities(mspDir: string): IdentityResolver {
  return async ({ org, user }) => {
    checkNames(org, user);
    const files = await getOrIssueIdentity(mspDir, org, user);
    return { mspId: files.mspId, certPem: files.certPem, signer: newEcdsaSigner(files.keyPem) };
  };
}
