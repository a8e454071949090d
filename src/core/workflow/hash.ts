import { createHash } from 'node:crypto';
import type { WorkflowSpec } from './spec';

/**
 * The digest the ledger records for a submitted workflow: sha256 over the canonical JSON of
 * the parsed spec and the code files. Canonical means object keys sorted at every level,
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

/** Hex sha256 of the spec and files. */
export function workflowHash(spec: WorkflowSpec, files: Record<string, string>): string {
  return createHash('sha256').update(canonicalJson({ version: SPEC_HASH_VERSION, spec, files })).digest('hex');
}
