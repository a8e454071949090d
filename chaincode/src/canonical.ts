import { configure } from 'safe-stable-stringify';

// Every endorsing peer must produce the same bytes for the same state, so state, results
// and event payloads are serialized with sorted keys (safe-stable-stringify, deterministic).
const stringify = configure({ deterministic: true, bigint: false, circularValue: Error });

export function canonicalJson(value: unknown): string {
  const text = stringify(value);
  if (text === undefined) throw new Error('value cannot be serialized');
  return text;
}

export const canonicalBytes = (value: unknown): Buffer => Buffer.from(canonicalJson(value), 'utf8');
