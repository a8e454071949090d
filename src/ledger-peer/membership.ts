import { X509Certificate, type KeyObject } from 'node:crypto';
import { msp } from '@hyperledger/fabric-protos';
import { mspIdFor } from '../core/names';
import { listCaCerts } from './localCa';
import { verifySignature } from '../adapters/ledger/ecdsa';

/**
 * Which identities the peer accepts: a serialized identity (MSP id + PEM certificate) is
 * valid when its certificate was issued, and is currently valid, under the CA of the
 * organization its MSP id names. CAs are read from the MSP directories (re-read when an
 * unknown MSP id shows up, so organizations added by another host are seen). Verified
 * identities are cached by their bytes: each client signs every request with one identity.
 */
export interface Member {
  mspId: string;
  org: string;
  /** The certificate's CN. */
  user: string;
  certPem: string;
  publicKey: KeyObject;
}

export class Membership {
  readonly #roots: string[];
  readonly #cas = new Map<string, { org: string; cert: X509Certificate }>();
  readonly #members = new Map<string, Member>();
  readonly #validity = new WeakMap<Member, { from: number; to: number }>();

  constructor(mspRoots: string[]) {
    this.#roots = mspRoots;
    this.#loadCas();
  }

  /** The member behind serialized identity bytes, or an Error saying why it is not one. */
  resolve(creator: Uint8Array): Member | Error {
    const cacheKey = Buffer.from(creator).toString('base64');
    const cached = this.#members.get(cacheKey);
    if (cached !== undefined && this.#stillValid(cached)) return cached;
    let identity: msp.SerializedIdentity;
    try {
      identity = msp.SerializedIdentity.deserializeBinary(creator);
    } catch {
      return new Error('creator is not a serialized identity');
    }
    const mspId = identity.getMspid();
    let ca = this.#cas.get(mspId);
    if (ca === undefined) {
      this.#loadCas();
      ca = this.#cas.get(mspId);
    }
    if (ca === undefined) return new Error(`unknown MSP ${mspId}`);
    const certPem = Buffer.from(identity.getIdBytes_asU8()).toString('utf8');
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(certPem);
    } catch {
      return new Error('creator certificate cannot be parsed');
    }
    if (!cert.checkIssued(ca.cert) || !cert.verify(ca.cert.publicKey)) {
      return new Error(`certificate was not issued by the CA of ${mspId}`);
    }
    const user = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
    const org = /(?:^|\n)O=([^\n]+)/.exec(cert.subject)?.[1];
    if (user === undefined || org !== ca.org) return new Error('certificate subject does not name a user of the organization');
    const member: Member = { mspId, org, user, certPem, publicKey: cert.publicKey };
    if (!this.#stillValid(member, cert)) return new Error('certificate is expired or not yet valid');
    this.#members.set(cacheKey, member);
    this.#validity.set(member, { from: Date.parse(cert.validFrom), to: Date.parse(cert.validTo) });
    return member;
  }

  /** Resolves `creator` and checks `signature` over `message`. */
  verify(creator: Uint8Array, message: Uint8Array, signature: Uint8Array): Member | Error {
    const member = this.resolve(creator);
    if (member instanceof Error) return member;
    return verifySignature(member.publicKey, message, signature) ? member : new Error('signature verification failed');
  }

  #stillValid(member: Member, cert?: X509Certificate): boolean {
    const v = cert ? { from: Date.parse(cert.validFrom), to: Date.parse(cert.validTo) } : this.#validity.get(member);
    const now = Date.now();
    return v !== undefined && v.from <= now && now <= v.to;
  }

  #loadCas(): void {
    for (const root of this.#roots) {
      for (const { org, caCertPem } of listCaCerts(root)) {
        this.#cas.set(mspIdFor(org), { org, cert: new X509Certificate(caCertPem) });
      }
    }
  }
}

export function serializeIdentity(mspId: string, certPem: string): Uint8Array {
  const identity = new msp.SerializedIdentity();
  identity.setMspid(mspId);
  identity.setIdBytes(Buffer.from(certPem));
  return identity.serializeBinary();
}
