import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createOnce } from '../fs/atomicFile';

/**
 * The credentials of the durable management API, as the Durable extension has them on
 * Azure: a system key every webhook request must carry (`code=` or `x-functions-key`), kept
 * across restarts in `<data dir>/durable/system.key` (0600), and, for the SDK's in-process
 * client (which sends no query string to `rpcBaseUrl`), a random path segment that lives
 * only in this process's memory.
 */
const KEY_FORMAT = /^[A-Za-z0-9_-]{43}$/;

/** 256 random bits, base64url: the form of both the system key and the rpc secret. */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function systemKeyPath(dataDir: string): string {
  return join(dataDir, 'durable', 'system.key');
}

/** Reads the system key, creating it on first start. The file appears complete or not at
 * all, and two hosts starting at once agree on one key (createOnce: read at every start). */
export function loadOrCreateSystemKey(dataDir: string): string {
  const path = systemKeyPath(dataDir);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const key = createOnce(path, Buffer.from(`${newSecret()}\n`))
    .toString('utf8')
    .trim();
  if (!KEY_FORMAT.test(key)) throw new Error(`${path} does not hold a durable system key; delete it to make a new one`);
  return key;
}

// One-shot: every management API request checks a secret (half the cost of a Hash object).
const digest = (s: string): Buffer => hash('sha256', s, 'buffer');

/** Whether a given secret is `expected`, compared in constant time (over digests, so the
 * length of what is given leaks nothing either); the expected digest is computed once, as
 * every request to the API checks one. */
export function secretMatcher(expected: string): (given: string | undefined) => boolean {
  const want = digest(expected);
  return (given) => given !== undefined && timingSafeEqual(digest(given), want);
}
