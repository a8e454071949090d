import { createHash } from 'node:crypto';

/**
 * A dataset version's content hash, Merkle-style as git's trees: a file's node is the sha256
 * of its bytes; a directory's node is the sha256 of its sorted entries, one line each
 * (`file <hash> <name>` or `dir <hash> <name>`); the content hash is the root directory's
 * node. Equal content gives the equal hash whatever the order files were written in, and a
 * verifier holding one file's path and the sibling nodes on its way up can check that file
 * belongs to the recorded hash without the rest of the data.
 */
export interface ContentFile {
  /** Relative, `/`-separated (core/relativePath.ts). */
  path: string;
  /** sha256 hex of the file's bytes. */
  sha256: string;
}

interface Dir {
  files: Map<string, string>;
  dirs: Map<string, Dir>;
}

export function contentHash(files: readonly ContentFile[]): string {
  const root: Dir = { files: new Map(), dirs: new Map() };
  for (const { path, sha256 } of files) {
    const segments = path.split('/');
    let dir = root;
    for (const segment of segments.slice(0, -1)) {
      let next = dir.dirs.get(segment);
      if (next === undefined) dir.dirs.set(segment, (next = { files: new Map(), dirs: new Map() }));
      dir = next;
    }
    dir.files.set(segments[segments.length - 1]!, sha256);
  }
  return nodeOf(root);
}

function nodeOf(dir: Dir): string {
  const lines = [
    ...[...dir.files].map(([name, hash]) => ({ name, line: `file ${hash} ${name}\n` })),
    ...[...dir.dirs].map(([name, sub]) => ({ name, line: `dir ${nodeOf(sub)} ${name}\n` })),
  ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const hash = createHash('sha256').update('ledgerflow tree\n');
  for (const { line } of lines) hash.update(line, 'utf8');
  return hash.digest('hex');
}
