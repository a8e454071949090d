import { X509Certificate } from 'node:crypto';
import type { Context } from 'fabric-contract-api';
import { forbidden } from './errors';
import type { Identity } from './state/identity';

const USER_NAME = /^[A-Za-z0-9._@-]{1,128}$/;

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
  const cert = new X509Certificate(Buffer.from(ctx.clientIdentity.getIDBytes()));
  const cns = cert.subject
    .split('\n')
    .filter((line) => line.startsWith('CN='))
    .map((line) => line.slice(3));
  const user = cns.length === 1 ? cns[0] : undefined;
  if (user === undefined || !USER_NAME.test(user)) {
    throw forbidden('the client certificate must have exactly one plain subject CN');
  }
  return { user, org: orgOfMspId(mspId), mspId };
}

export const sameIdentity = (a: Identity, b: Identity): boolean => a.mspId === b.mspId && a.user === b.user;
