import { createPrivateKey } from 'node:crypto';
import { signAsync, signSync } from '../adapters/ledger/ecdsa';
import { getOrIssueOrgIdentity } from './localCa';
import { serializeIdentity } from './membership';
import { namedOrgs, satisfied, type EndorsementPolicy, type Signer } from './endorsementPolicy';
import type { ChannelState } from './channel';
import type { IdentitySigner } from './channelConfig';

/**
 * One endorsing identity per member organization inside the embedded peer, standing in for
 * that organization's peer: `peer0.<org>`, issued by the organization's own CA (kept in its
 * MSP directory, `<org>/peers/peer0`), loaded when the organization is first asked to endorse.
 */
export interface Endorser extends IdentitySigner {
  mspId: string;
  /** sign on libuv's thread pool: an endorsement's signatures are made in parallel, off the
   * event loop. */
  signAsync(message: Uint8Array): Promise<Uint8Array>;
}

export class Endorsers {
  readonly #mspDir: string;
  readonly #loaded = new Map<string, Promise<Endorser>>();

  constructor(mspDir: string) {
    this.#mspDir = mspDir;
  }

  get(channel: ChannelState, mspId: string): Promise<Endorser> {
    let endorser = this.#loaded.get(mspId);
    if (endorser === undefined) {
      const org = channel.config?.orgs.find((o) => o.mspId === mspId)?.org;
      if (org === undefined) return Promise.reject(new Error(`${mspId} is not an organization of the channel`));
      endorser = getOrIssueOrgIdentity(this.#mspDir, org, 'peer').then((files) => {
        const key = createPrivateKey(files.keyPem);
        return {
          mspId,
          identity: serializeIdentity(files.mspId, files.certPem),
          sign: (m: Uint8Array) => signSync(key, m),
          signAsync: (m: Uint8Array) => signAsync(key, m),
        };
      });
      endorser.catch(() => this.#loaded.delete(mspId));
      this.#loaded.set(mspId, endorser);
    }
    return endorser;
  }
}

/**
 * The organizations whose peers must endorse so that `policies` are all satisfied, as the
 * Fabric Gateway plans an endorsement: the client's own organization first (its gateway peer),
 * then the organizations the policies name, then the others in MSP id order, taken until the
 * policies are satisfied; organizations not needed after all are then dropped, so a
 * transaction costs only the signatures its policies require. Undefined when no set of
 * channel organizations satisfies them.
 */
export function planEndorsement(policies: readonly EndorsementPolicy[], orgs: readonly string[], clientMspId: string): string[] | undefined {
  const ok = (chosen: readonly string[]) => {
    const signers: Signer[] = chosen.map((mspId) => ({ mspId, isAdmin: false }));
    return policies.every((p) => satisfied(p, signers, orgs));
  };
  const named = policies.flatMap(namedOrgs).filter((m) => orgs.includes(m));
  const candidates = [...new Set([...(orgs.includes(clientMspId) ? [clientMspId] : []), ...named, ...[...orgs].sort()])];
  const chosen: string[] = [];
  for (const candidate of candidates) {
    if (ok(chosen)) break;
    chosen.push(candidate);
  }
  if (!ok(chosen)) return undefined;
  for (const mspId of [...chosen]) {
    const without = chosen.filter((m) => m !== mspId);
    if (without.length > 0 && ok(without)) chosen.splice(chosen.indexOf(mspId), 1);
  }
  return chosen;
}
