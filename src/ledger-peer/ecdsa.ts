import { createPrivateKey, sign, verify, type KeyObject } from 'node:crypto';

/**
 * ECDSA P-256 signatures as Fabric wants them: SHA-256 over the message, DER encoded, and
 * "low-S" (s <= n/2), which Fabric peers require to rule out signature malleability.
 * node:crypto signs about 20x faster than the pure-JS signer fabric-gateway ships, but
 * OpenSSL does not normalise S, so we do it here (no library exposes just this step).
 */

/** The order n of the P-256 group. */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const HALF_N = P256_N >> 1n;

/** A fabric-gateway Signer over the full message (use with `hash: hash.none`): the seam where
 * an HSM or Key Vault signer can be plugged instead. */
export type MessageSigner = (message: Uint8Array) => Promise<Uint8Array>;

export function newEcdsaSigner(privateKeyPem: string | KeyObject): MessageSigner {
  const key = typeof privateKeyPem === 'string' ? createPrivateKey(privateKeyPem) : privateKeyPem;
  return (message) => Promise.resolve(signSync(key, message));
}

export function signSync(key: KeyObject, message: Uint8Array): Buffer {
  return toLowS(sign('sha256', message, key));
}

/** True when `signature` is a valid low-S DER ECDSA signature of `message` by `publicKey`. */
export function verifySignature(publicKey: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  const parsed = parseDer(Buffer.from(signature));
  if (parsed === undefined || parsed.s > HALF_N) return false;
  try {
    return verify('sha256', message, publicKey, signature);
  } catch {
    return false;
  }
}

function toLowS(der: Buffer): Buffer {
  const parsed = parseDer(der);
  if (parsed === undefined) throw new Error('unexpected ECDSA signature encoding');
  if (parsed.s <= HALF_N) return der;
  return encodeDer(parsed.r, P256_N - parsed.s);
}

// DER: SEQUENCE { INTEGER r, INTEGER s }; P-256 signatures are short enough for one-byte lengths.
function parseDer(der: Buffer): { r: bigint; s: bigint } | undefined {
  if (der.length < 8 || der[0] !== 0x30 || der[1] !== der.length - 2) return undefined;
  const r = readInteger(der, 2);
  if (r === undefined) return undefined;
  const s = readInteger(der, r.next);
  if (s === undefined || s.next !== der.length) return undefined;
  return { r: r.value, s: s.value };
}

function readInteger(der: Buffer, at: number): { value: bigint; next: number } | undefined {
  if (der[at] !== 0x02) return undefined;
  const len = der[at + 1];
  if (len === undefined || len === 0 || at + 2 + len > der.length) return undefined;
  const bytes = der.subarray(at + 2, at + 2 + len);
  return { value: BigInt(`0x${bytes.toString('hex')}`), next: at + 2 + len };
}

function encodeDer(r: bigint, s: bigint): Buffer {
  const ri = encodeInteger(r);
  const si = encodeInteger(s);
  return Buffer.concat([Buffer.from([0x30, ri.length + si.length]), ri, si]);
}

function encodeInteger(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}
