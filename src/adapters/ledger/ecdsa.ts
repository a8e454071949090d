import { createPrivateKey, sign, verify, type KeyObject } from 'node:crypto';

/**
 * ECDSA P-256 signatures as Fabric wants them: SHA-256 over the message, DER encoded, and
 * "low-S" (s <= n/2), which Fabric peers require to rule out signature malleability.
 * node:crypto signs about 20x faster than the pure-JS signer fabric-gateway ships, but
 * OpenSSL does not normalise S, so we do it here (no library exposes just this step).
 * Every request is signed by the client and verified by the peer several times, so S is
 * compared as bytes; arithmetic (n - s) is only needed for the half of signatures that
 * come out high.
 */

/** The order n of the P-256 group. */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const HALF_N = Buffer.from((P256_N >> 1n).toString(16).padStart(64, '0'), 'hex');
const FIELD_BYTES = 32;

/** A fabric-gateway Signer over the full message (use with `hash: hash.none`): the seam where
 * an HSM or Key Vault signer can be plugged instead. */
export type MessageSigner = (message: Uint8Array) => Promise<Uint8Array>;

export function newEcdsaSigner(privateKeyPem: string | KeyObject): MessageSigner {
  const key = typeof privateKeyPem === 'string' ? createPrivateKey(privateKeyPem) : privateKeyPem;
  return (message) => signAsync(key, message);
}

/** Signs and returns the DER signature with S normalised to the lower half. */
export function signSync(key: KeyObject, message: Uint8Array): Buffer {
  // r || s, 32 bytes each: S is at a fixed place, and DER is written once.
  return lowSDer(sign('sha256', message, { key, dsaEncoding: 'ieee-p1363' }));
}

/** signSync on libuv's thread pool: the elliptic-curve arithmetic, the largest part of a
 * request's CPU on both sides, then runs on another core than the event loop's gRPC work. */
export function signAsync(key: KeyObject, message: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    sign('sha256', message, { key, dsaEncoding: 'ieee-p1363' }, (err, raw) => (err === null ? resolve(lowSDer(raw)) : reject(err))),
  );
}

function lowSDer(raw: Buffer): Buffer {
  const r = raw.subarray(0, FIELD_BYTES);
  let s = raw.subarray(FIELD_BYTES);
  if (s.compare(HALF_N) > 0) s = Buffer.from((P256_N - BigInt(`0x${s.toString('hex')}`)).toString(16).padStart(64, '0'), 'hex');
  return encodeDer(r, s);
}

/** True when `signature` is a valid low-S DER ECDSA signature of `message` by `publicKey`. */
export function verifySignature(publicKey: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  if (!lowSDerSignature(signature)) return false;
  try {
    return verify('sha256', message, publicKey, signature);
  } catch {
    return false;
  }
}

/** verifySignature on libuv's thread pool (see signAsync). */
export function verifySignatureAsync(publicKey: KeyObject, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  if (!lowSDerSignature(signature)) return Promise.resolve(false);
  return new Promise((resolve) => {
    try {
      verify('sha256', message, publicKey, signature, (err, ok) => resolve(err === null && ok));
    } catch {
      resolve(false);
    }
  });
}

function lowSDerSignature(signature: Uint8Array): boolean {
  const s = derS(Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength));
  return s !== undefined && isLowS(s);
}

/** s as big-endian magnitude bytes compared with n/2 (both without leading zeros). */
function isLowS(s: Buffer): boolean {
  let from = 0;
  while (from < s.length - 1 && s[from] === 0) from++;
  const magnitude = s.subarray(from);
  if (magnitude.length !== FIELD_BYTES) return magnitude.length < FIELD_BYTES;
  return magnitude.compare(HALF_N) <= 0;
}

// DER: SEQUENCE { INTEGER r, INTEGER s }; P-256 signatures are short enough for one-byte
// lengths. Returns s's content bytes, or undefined when this is not such a structure.
function derS(der: Buffer): Buffer | undefined {
  if (der.length < 8 || der[0] !== 0x30 || der[1] !== der.length - 2) return undefined;
  const r = integerAt(der, 2);
  if (r === undefined) return undefined;
  const s = integerAt(der, r.next);
  if (s === undefined || s.next !== der.length) return undefined;
  return s.value;
}

function integerAt(der: Buffer, at: number): { value: Buffer; next: number } | undefined {
  if (der[at] !== 0x02) return undefined;
  const len = der[at + 1];
  if (len === undefined || len === 0 || at + 2 + len > der.length) return undefined;
  return { value: der.subarray(at + 2, at + 2 + len), next: at + 2 + len };
}

function encodeDer(r: Buffer, s: Buffer): Buffer {
  const ri = derInteger(r);
  const si = derInteger(s);
  return Buffer.concat([Buffer.from([0x30, ri.length + si.length]), ri, si]);
}

/** A non-negative integer from fixed-width big-endian bytes: minimal, with a 0 byte where
 * the top bit would read as a sign. */
function derInteger(bytes: Buffer): Buffer {
  let from = 0;
  while (from < bytes.length - 1 && bytes[from] === 0) from++;
  const magnitude = bytes.subarray(from);
  const pad = (magnitude[0] ?? 0) & 0x80 ? 1 : 0;
  const out = Buffer.alloc(2 + pad + magnitude.length);
  out[0] = 0x02;
  out[1] = pad + magnitude.length;
  magnitude.copy(out, 2 + pad);
  return out;
}
