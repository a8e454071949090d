import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** One read of an environment variable found in the source. */
export interface EnvRead {
  file: string;
  line: number;
  /** The variable name, or undefined when the code computes it (`process.env[name]`). */
  name: string | undefined;
}

// `process.env.NAME`, `process.env['NAME']`, and the same on a variable called `env` (code
// that takes the environment as a parameter, defaulting to process.env). Lower-case dotted
// names on `env` are ordinary objects, not the environment.
const LITERAL_READ = /\b(?:process\.env|env)(?:\.([A-Z][A-Z0-9_]*)\b|\[\s*(['"`])([^'"`]+)\2\s*\])/g;
const COMPUTED_READ = /\bprocess\.env\[\s*(?!['"`])/g;

/** The environment reads in one file's text. */
export function envReadsIn(file: string, text: string): EnvRead[] {
  const reads: EnvRead[] = [];
  const lineOf = (index: number): number => text.slice(0, index).split('\n').length;
  for (const m of text.matchAll(LITERAL_READ)) reads.push({ file, line: lineOf(m.index), name: m[1] ?? m[3] });
  for (const m of text.matchAll(COMPUTED_READ)) reads.push({ file, line: lineOf(m.index), name: undefined });
  return reads;
}

/** Every environment read in the .ts files under `dirs` (relative to root), except under `skip`. */
export function envReads(root: string, dirs: readonly string[], skip: readonly string[]): EnvRead[] {
  const skipped = (path: string): boolean => skip.some((s) => path === s || path.startsWith(`${s}/`));
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      const rel = relative(root, path).split(sep).join('/');
      if (skipped(rel)) return [];
      if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : walk(path);
      return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
    });
  const existing = dirs.filter((d) => {
    try {
      return readdirSync(join(root, d)) !== undefined;
    } catch {
      return false;
    }
  });
  return existing.flatMap((d) => walk(join(root, d))).flatMap((path) => envReadsIn(relative(root, path).split(sep).join('/'), readFileSync(path, 'utf8')));
}
