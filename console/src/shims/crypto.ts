import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

/** The browser's stand-in for the one node:crypto call the shared core makes,
 * `createHash('sha256').update(data).digest('hex')`: synchronous, which Web Crypto is not. */
export function createHash(algorithm: string) {
  if (algorithm !== 'sha256') throw new Error(`the console hashes only sha256, not ${algorithm}`);
  const state = sha256.create();
  const hash = {
    update(data: string | Uint8Array) {
      state.update(typeof data === 'string' ? utf8ToBytes(data) : data);
      return hash;
    },
    digest(encoding: 'hex') {
      if (encoding !== 'hex') throw new Error('the console digests only to hex');
      return bytesToHex(state.digest());
    },
  };
  return hash;
}
