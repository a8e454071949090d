import { X509Certificate, type KeyObject } from 'node:crypto';
import { msp } from '@hyperledger/fabric-protos';
import { mspIdFor } from '../core/names';
import { listCaCerts } from './localCa';
import { verifySignature, verifySignatureAsync } from '../adapters/ledger/ecdsa';

/**
 * Which identities the peer accepts: a serialized identity (MSP id + PEM certificate) is
 * valid when its certificate was issued, and is currently valid, under the root CA of the
 * organization its MSP id names in the channel configuration (channelConfig.ts), as a
 * Fabric MSP decides it. An identity is an admin when its certificate is one the
 * configuration lists as the organization's admin. Verified identities are cached by their
 * bytes: each client signs every request with one identity.
 */
export interface Member {
  mspId: string;
  org: string;
  /** The certificate's CN. */
  user: string;
  certPem: string;
  publicKey: KeyObject;
  isAdmin: boolean;
}

export interface MspDefinition {
  org: string;
  mspId: string;
  caCertPem: string;
  adminCertPems?: string[];
}

export class Membership {
  readonly #cas = new Map<string, { org: string; cert: X509Certificate; admins: Set<string> }>();
  readonly #members = new Map<string, Member>();
  readonly #validity = new WeakMap<Member, { from: number; to: number }>();

  constructor(msps: readonly MspDefinition[]) {
    for (const m of msps) {
      this.#cas.set(m.mspId, { org: m.org, cert: new X509Certificate(m.caCertPem), admins: new Set((m.adminCertPems ?? []).map(normalizePem)) });
    }
  }

  /** Every organization whose CA is in the MSP directories: how ledgers written before the
   * channel had a configuration accepted identities (and how their first config is derived). */
  static fromCaDirs(mspRoots: readonly string[]): Membership {
    return new Membership(mspRoots.flatMap((root) => listCaCerts(root).map(({ org, caCertPem }) => ({ org, mspId: mspIdFor(org), caCertPem }))));
  }

  /** The MSP ids this membership accepts. */
  get mspIds(): string[] {
    return [...this.#cas.keys()];
  }

  /** The member behind serialized identity bytes, or an Error saying why it is not one. */
  resolve(creator: Uint8Array): Member | Error {
    // latin1 maps each byte to one character: a key of the bytes without copying them first.
    const cacheKey = Buffer.from(creator.buffer, creator.byteOffset, creator.byteLength).toString('latin1');
    const cached = this.#members.get(cacheKey);
    if (cached !== undefined && this.#stillValid(cached)) return cached;
    let identity: msp.SerializedIdentity;
    try {
      identity = msp.SerializedIdentity.deserializeBinary(creator);
    } catch {
      return new Error('creator is not a serialized identity');
    }
    const mspId = identity.getMspid();
    const ca = this.#cas.get(mspId);
    if (ca === undefined) return new Error(`MSP ${mspId} is not defined on channel`);
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
    const member: Member = { mspId, org, user, certPem, publicKey: cert.publicKey, isAdmin: ca.admins.has(normalizePem(certPem)) };
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

  /** verify, with the signature checked on libuv's thread pool: what the gateway's request
   * handlers use, so the event loop serves other calls meanwhile. */
  async verifyAsync(creator: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<Member | Error> {
    const member = this.resolve(creator);
    if (member instanceof Error) return member;
    return (await verifySignatureAsync(member.publicKey, message, signature)) ? member : new Error('signature verification failed');
  }

  #stillValid(member: Member, cert?: X509Certificate): boolean {
    const v = cert ? { from: Date.parse(cert.validFrom), to: Date.parse(cert.validTo) } : this.#validity.get(member);
    const now = Date.now();
    return v !== undefined && v.from <= now && now <= v.to;
  }
}

const normalizePem = (pem: string) => pem.replace(/\r/g, '').trim();

export function serializeIdentity(mspId: string, certPem: string): Uint8Array {
  const identity = new msp.SerializedIdentity();
  identity.setMspid(mspId);
  identity.setIdBytes(Buffer.from(certPem));
  return identity.serializeBinary();
}
