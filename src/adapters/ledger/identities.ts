import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Caller } from '../../core/model';
import { LedgerflowError } from '../../core/errors';
import { newEcdsaSigner, type MessageSigner } from './ecdsa';
import { getOrIssueIdentity, isValidIdentityName, mspIdFor } from '../../ledger-peer/localCa';

/**
 * Where a caller's Fabric identity comes from. Both sources use one layout,
 * `<dir>/<org>/users/<user>/{cert.pem,key.pem}`: the embedded peer's CAs issue into it on
 * demand; for a real network an operator places the certificates issued by the
 * organizations' Fabric CAs there. The signer is a plain function, the seam where an HSM or
 * Key Vault signer replaces the file key.
 */
export interface LedgerIdentity {
  mspId: string;
  certPem: string;
  signer: MessageSigner;
}

export type IdentityResolver = (caller: Caller) => Promise<LedgerIdentity>;

/** Issues missing identities from the embedded peer's CAs (`<dataDir>/ledger/msp`). */
export function issuingIdentities(mspDir: string): IdentityResolver {
  return async ({ org, user }) => {
    checkNames(org, user);
    const files = await getOrIssueIdentity(mspDir, org, user);
    return { mspId: files.mspId, certPem: files.certPem, signer: newEcdsaSigner(files.keyPem) };
  };
}

/** Reads identities an operator provisioned; MSP ids are derived unless mapped explicitly. */
export function fileIdentities(dir: string, mspIds: Readonly<Record<string, string>> = {}): IdentityResolver {
  return async ({ org, user }) => {
    checkNames(org, user);
    const userDir = join(dir, org, 'users', user);
    try {
      const [certPem, keyPem] = await Promise.all([readFile(join(userDir, 'cert.pem'), 'utf8'), readFile(join(userDir, 'key.pem'), 'utf8')]);
      return { mspId: mspIds[org] ?? mspIdFor(org), certPem, signer: newEcdsaSigner(keyPem) };
    } catch (err) {
      throw new LedgerflowError('forbidden', `no ledger identity for ${user} of ${org}`, { cause: err });
    }
  };
}

function checkNames(org: string, user: string): void {
  if (!isValidIdentityName(org, user)) throw new LedgerflowError('forbidden', 'no ledger identity can be issued for this caller name');
}
