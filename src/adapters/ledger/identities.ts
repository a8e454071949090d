import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Caller } from '../../core/model';
import { LedgerflowError } from '../../core/errors';
import { isValidIdentityName, mspIdFor } from '../../core/names';
import { newEcdsaSigner, type MessageSigner } from './ecdsa';

/**
 * Where a caller's Fabric identity comes from: certificates issued by the organizations'
 * Fabric CAs, placed by an operator as `<dir>/<org>/users/<user>/{cert.pem,key.pem}`. The
 * embedded peer's CAs issue into the same layout on demand (src/ledger-peer/issuingIdentities.ts,
 * wired only when that peer is used). The signer is a plain function, the seam where an HSM
 * or Key Vault signer replaces the file key.
 */
export interface LedgerIdentity {
  mspId: string;
  certPem: string;
  signer: MessageSigner;
}

export type IdentityResolver = (caller: Caller) => Promise<LedgerIdentity>;

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

export function checkNames(org: string, user: string): void {
  if (!isValidIdentityName(org, user)) throw new LedgerflowError('forbidden', 'no ledger identity can be issued for this caller name');
}
