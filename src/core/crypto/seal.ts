import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { LedgerflowError } from '../errors';
import type { DatasetLocation } from '../model';

/**
 * Sealing a dataset's location for the ledger: AES-256-GCM under the dataset's own data
 * key, with the dataset id as associated data so a sealed value cannot be replayed onto
 * another dataset. Wire format: base64url(version | iv | tag | ciphertext).
 */
const VERSION = 1;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + IV_BYTES + TAG_BYTES;

export type SealFailure = 'bad_key' | 'malformed' | 'unsupported_version' | 'authentication_failed';

/** Unsealing failed. The message never carries key or plaintext material. */
export class SealError extends LedgerflowError {
  readonly reason: SealFailure;
  constructor(reason: SealFailure, message: string) {
    super('internal', message);
    this.name = 'SealError';
    this.reason = reason;
  }
}

/** A fresh 256-bit data key from the CSPRNG, base64url-encoded for the key store. */
export function newDataKey(): string {
  return randomBytes(KEY_BYTES).toString('base64url');
}

function decodeKey(dataKey: string): Buffer {
  const key = Buffer.from(dataKey, 'base64url');
  if (key.length !== KEY_BYTES || key.toString('base64url') !== dataKey) {
    throw new SealError('bad_key', 'data key is not 256 bits of base64url');
  }
  return key;
}

/** Encrypts `plaintext` bound to `associatedData`; the generic primitive under sealLocation. */
export function sealBytes(plaintext: Buffer, dataKey: string, associatedData: string): string {
  const key = decodeKey(dataKey);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), ciphertext]).toString('base64url');
}

export function unsealBytes(sealed: string, dataKey: string, associatedData: string): Buffer {
  const key = decodeKey(dataKey);
  const raw = Buffer.from(sealed, 'base64url');
  if (raw.length < HEADER_BYTES || raw.toString('base64url') !== sealed) {
    throw new SealError('malformed', 'sealed value is not valid base64url of the expected length');
  }
  if (raw[0] !== VERSION) throw new SealError('unsupported_version', `sealed value has unsupported version ${raw[0]}`);
  const iv = raw.subarray(1, 1 + IV_BYTES);
  const tag = raw.subarray(1 + IV_BYTES, HEADER_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(raw.subarray(HEADER_BYTES)), decipher.final()]);
  } catch {
    throw new SealError('authentication_failed', 'sealed value failed authentication (wrong key, id or tampered)');
  }
}

export function sealLocation(location: DatasetLocation, dataKey: string, datasetId: string): string {
  return sealBytes(Buffer.from(JSON.stringify(location), 'utf8'), dataKey, datasetId);
}

export function unsealLocation(sealed: string, dataKey: string, datasetId: string): DatasetLocation {
  const plaintext = unsealBytes(sealed, dataKey, datasetId);
  const parsed: unknown = JSON.parse(plaintext.toString('utf8'));
  if (!isLocation(parsed)) throw new SealError('malformed', 'sealed value does not hold a dataset location');
  return parsed;
}

function isLocation(value: unknown): value is DatasetLocation {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  if (v['kind'] === 'local') return typeof v['path'] === 'string';
  if (v['kind'] === 'azure-files') return typeof v['shareUrl'] === 'string' && typeof v['credentialRef'] === 'string';
  return false;
}
