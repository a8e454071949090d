import { createHash } from 'node:crypto';
import type { WorkflowSpec } from './spec';

/**
 * The digests the ledger records for a submitted workflow, and that an owner's approval
 * names: sha256 over the canonical JSON of the parsed spec, and over the code files. Canonical means object keys sorted at every level,
 * so the digest depends on meaning, not on YAML layout or key order. Written here rather
 * than pulled in: sorting keys in a JSON.stringify replacer is all it takes.
 */
export const SPEC_HASH_VERSION = 'ledgerflow.workflow.v1';

export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

/** Hex sha256 of what the jobs run: jobs, commands, images, env, edges, volumes, resources,
 * timeouts and retries (the whole parsed spec). */
export function specHash(spec: WorkflowSpec): string {
  return sha256(canonicalJson({ version: SPEC_HASH_VERSION, spec }));
}

/** Hex sha256 of one file's bytes (UTF-8 for text): what an owner reviewing it checks. */
export const fileDigest = sha256;

/** Hex sha256 over every code file: its path and its own digest. */
export function filesHash(files: Record<string, string>): string {
  const digests = Object.fromEntries(Object.entries(files).map(([path, content]) => [path, fileDigest(content)]));
  return sha256(canonicalJson({ version: SPEC_HASH_VERSION, files: digests }));
}
