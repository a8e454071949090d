import { X509Certificate } from 'node:crypto';
import type { Context } from 'fabric-contract-api';
import { forbidden } from './errors';
import type { Identity } from './state/identity';

// Enrollment-style names, words separated by single spaces; no characters that a DN escapes.
const USER_NAME = /^(?=.{1,128}$)[A-Za-z0-9._@-]+( [A-Za-z0-9._@-]+)*$/;

/** `UisMSP` -> `uis`: the organization's short name is its MSP id without a trailing `MSP`. */
export function orgOfMspId(mspId: string): string {
  return (mspId.endsWith('MSP') ? mspId.slice(0, -3) : mspId).toLowerCase();
}

/**
 * The submitter, from the client identity the peer verified. The user is the certificate
 * subject's CN; names outside a plain character set are refused rather than unescaped, so
 * no crafted subject (escaped separators, several CNs) can pass for another user.
 */
export function submitter(ctx: Context): Identity {
  const mspId = ctx.clientIdentity.getMSPID();
  const user = subjectCn(Buffer.from(ctx.clientIdentity.getIDBytes()).toString('utf8'));
  if (user === undefined) throw forbidden('the client certificate must have exactly one plain subject CN');
  return { user, org: orgOfMspId(mspId), mspId };
}

// Parsing a certificate costs more than the rest of a lease transaction, and a peer process
// sees the same few client certificates over and over; the CN is a pure function of the
// certificate, so remembering it keeps every endorser's answer the same.
const CN_CACHE_LIMIT = 1024;
const cnCache = new Map<string, string | undefined>();

function subjectCn(certPem: string): string | undefined {
  if (cnCache.has(certPem)) return cnCache.get(certPem);
  const cns = new X509Certificate(certPem).subject
    .split('\n')
    .filter((line) => line.startsWith('CN='))
    .map((line) => line.slice(3));
  const user = cns.length === 1 && USER_NAME.test(cns[0]) ? cns[0] : undefined;
  if (cnCache.size >= CN_CACHE_LIMIT) cnCache.delete(cnCache.keys().next().value as string);
  cnCache.set(certPem, user);
  return user;
}

export const sameIdentity = (a: Identity, b: Identity): boolean => a.mspId === b.mspId && a.user === b.user;
