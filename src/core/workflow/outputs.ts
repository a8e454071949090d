import { createHash } from 'node:crypto';
import type { OutputManifest } from '../model';
import { canonicalJson } from './hash';

/**
 * A run's outputs: every regular file of its workspace that the run created or changed
 * (a file still equal, by path and digest, to a submitted code file is the requester's own
 * and no output), and every job's log. The manifest is sorted so that the same workspace
 * always gives the same manifest and hash; the chaincode hashes it the same way
 * (canonical JSON, chaincode/src/results.ts outputsSha256).
 */

/** The most files a manifest may list (the chaincode refuses more). */
export const MAX_OUTPUT_FILES = 10_000;

export interface FileDigest {
  path: string;
  size: number;
  sha256: string;
}

export function outputManifest(
  workspace: readonly FileDigest[],
  submitted: readonly { path: string; sha256: string }[],
  logs: readonly { job: string; size: number; sha256: string }[],
): OutputManifest {
  const unchanged = new Set(submitted.map((f) => `${f.sha256}\u0000${f.path}`));
  const files = workspace
    .filter((f) => !unchanged.has(`${f.sha256}\u0000${f.path}`))
    .map(({ path, size, sha256 }) => ({ path, size, sha256 }))
    .sort((a, b) => compare(a.path, b.path));
  return { files, logs: logs.map(({ job, size, sha256 }) => ({ job, size, sha256 })).sort((a, b) => compare(a.job, b.job)) };
}

export const outputBytes = (m: OutputManifest): number => m.files.reduce((n, f) => n + f.size, 0) + m.logs.reduce((n, l) => n + l.size, 0);

export const outputsSha256 = (m: OutputManifest): string => createHash('sha256').update(canonicalJson(m), 'utf8').digest('hex');

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
