import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { privateDir } from './codeCache';

/**
 * Where each `require` of the last start resolved to, kept between starts: resolving is about
 * a tenth of a host start (some 700 lookups, each probing the node_modules chain and file
 * extensions, most of them for files that do not exist). An answer is reused only while
 * nothing it could depend on has changed since it was found:
 *
 * - every directory Node could have looked in (the requiring file's directory and all above
 *   it with their `node_modules`, the package's directory, every directory above the file it
 *   found, the directories a `main` field points into) has the same inode and ctime: a file
 *   or link created, removed or renamed in a directory changes its ctime, and no call can set
 *   a ctime back; a path that did not exist still does not;
 * - every package.json in those directories has the same inode, size and ctime (`main`,
 *   `exports`, `imports`, `name`);
 * - Node's version, the flags and environment that steer resolution, and the extensions are
 *   the ones the answers were found with (the cache file is named by them); a process run with
 *   options that change resolution (`-r`, `--import`, loaders, conditions, preserved symlinks)
 *   does not use it.
 *
 * An answer is written only if everything it depends on was last changed well before this
 * process started (MARGIN_MS), so a change racing the lookup, within the file system's clock
 * granularity, is never mistaken for the state the answer came from. Anything unreadable or
 * unexpected in the file means resolving as Node always does. Like Node's own in-process
 * caches, an answer checked at start is not checked again while the process runs.
 *
 * The directory must be private (ours, mode 0700): a path from it is loaded unchecked.
 */

type ModuleInternals = typeof Module & {
  _resolveFilename(request: string, parent: NodeModule | undefined, isMain: boolean, options?: object): string;
  _extensions: NodeJS.RequireExtensions;
};

export interface ResolutionCache {
  /** Writes the answers found since the start, if there are new ones that may be kept; only the
   * first call does anything (a start's lookups, not those of the hours a host may run after,
   * which would make every later start read and parse them). Never throws. */
  flush(): void;
  /** Answers taken from the cache, and found by Node, in this process. */
  readonly stats: { hits: number; misses: number };
}

export interface ResolutionCacheOptions {
  /** How long before this process started a dependency must have last changed (tests: 0). */
  readonly marginMs?: number;
}

/** A dependency changed later than this before the start is too fresh to trust. */
const MARGIN_MS = 2000;
/** Answers kept at most; beyond, the file starts over. One host and app start makes ~800. */
const MAX_ENTRIES = 20_000;
/** 3: only a start's answers (version 2 kept those of whole runs: ~2,250 answers, 490 KB to
 * read and parse at every start, where a start wants ~480). */
const VERSION = 3;

/** Flags and environment variables that change what a require resolves to, or who resolves it. */
const STEERING = /(^|\s)(-r|--require|--import|--loader|--experimental-loader|--experimental-policy|-C|--conditions|--preserve-symlinks)/;

interface Stored {
  readonly v: number;
  readonly key: string;
  /** Paths, and what they were (`ino:size:ctimeNs`, or `-` when missing), index-aligned. */
  readonly deps: string[];
  readonly prints: string[];
  /** [requiring directory, request, resolved file, indices into deps]. Directory and request
   * are two strings, not one joined by a NUL as the lookups in memory are: a string with a
   * `\u0000` escape in it takes JSON.parse off its fast path (9 ms instead of 1 for the
   * ~1,700 answers of a host and its tests). */
  readonly entries: Array<[string, string, string, number[]]>;
}

/** The file's frame; each entry is checked when its answer is first wanted. */
function isStored(x: unknown): x is Stored {
  if (typeof x !== 'object' || x === null) return false;
  const s = x as Partial<Stored>;
  return (
    s.v === VERSION &&
    typeof s.key === 'string' &&
    Array.isArray(s.deps) &&
    Array.isArray(s.prints) &&
    s.deps.length === s.prints.length &&
    s.deps.every((d) => typeof d === 'string') &&
    s.prints.every((p) => typeof p === 'string') &&
    Array.isArray(s.entries)
  );
}

interface Print {
  readonly print: string;
  /** Last changed at or after the margin before the start. */
  readonly fresh: boolean;
}

function printOf(path: string, freshAfterNs: bigint): Print {
  try {
    const st = lstatSync(path, { bigint: true, throwIfNoEntry: false });
    if (st === undefined) return { print: '-', fresh: false };
    return { print: `${st.ino}:${st.size}:${st.ctimeNs}`, fresh: st.ctimeNs >= freshAfterNs };
  } catch {
    return { print: '?', fresh: true };
  }
}

function ancestors(dir: string): string[] {
  const out = [dir];
  for (let d = dir, up = dirname(d); up !== d; d = up, up = dirname(d)) out.push(up);
  return out;
}

function isDirectory(path: string): boolean {
  return lstatSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

/** The package name a bare request starts with (`zod`, `@azure/functions`). */
function packageName(request: string): string {
  const parts = request.split('/');
  return request.startsWith('@') ? `${parts[0]}/${parts[1] ?? ''}` : (parts[0] as string);
}

/** Every path whose state the answer `file` to `request` from `fromDir` can depend on. */
function dependencies(fromDir: string, request: string, file: string): Set<string> {
  const deps = new Set<string>();
  const packageDirs = new Set<string>();
  const chain = (dir: string): void => {
    for (const d of ancestors(dir)) {
      if (deps.has(d)) continue;
      deps.add(d);
      packageDirs.add(d);
    }
  };
  const link = (path: string): void => {
    deps.add(path);
    if (lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) chain(realpathSync(path));
  };
  chain(fromDir);
  chain(dirname(file));
  if (request.startsWith('.') || isAbsolute(request)) {
    const target = resolve(fromDir, request);
    chain(dirname(target));
    if (isDirectory(target)) chain(target);
  } else {
    const name = packageName(request);
    for (const dir of ancestors(fromDir)) {
      if (basename(dir) === 'node_modules') continue;
      const modules = join(dir, 'node_modules');
      link(modules);
      if (statSync(modules, { throwIfNoEntry: false })?.isDirectory() !== true) continue;
      if (name.includes('/')) link(join(modules, dirname(name)));
      const root = join(modules, name);
      link(root);
      if (lstatSync(root, { throwIfNoEntry: false }) === undefined) continue;
      const real = realpathSync(root);
      chain(real);
      const target = join(real, request.slice(name.length));
      chain(dirname(target));
      if (isDirectory(target)) chain(target);
    }
  }
  // package.json files (their absence is in their directory's ctime), and where `main` points.
  for (const dir of packageDirs) {
    const manifest = join(dir, 'package.json');
    let text: string;
    try {
      text = readFileSync(manifest, 'utf8');
    } catch {
      continue;
    }
    deps.add(manifest);
    let main: unknown;
    try {
      main = (JSON.parse(text) as { main?: unknown }).main;
    } catch {
      main = undefined;
    }
    if (typeof main !== 'string') continue;
    for (let d = resolve(dir, main); d.startsWith(dir) && d !== dir; d = dirname(d)) deps.add(d);
  }
  return deps;
}

/** Whether this process resolves modules as Node does by default (nothing else hooks in). */
export function plainResolution(): boolean {
  if (process.env['NODE_PRESERVE_SYMLINKS'] === '1') return false;
  return !STEERING.test(process.execArgv.join(' ')) && !STEERING.test(process.env['NODE_OPTIONS'] ?? '');
}

/** The cache file for this Node, these settings and this program, in `dir`. */
export function cacheKey(M: ModuleInternals): string {
  return JSON.stringify([
    process.version,
    process.arch,
    process.platform,
    process.execPath,
    process.execArgv,
    process.env['NODE_OPTIONS'] ?? '',
    process.env['NODE_PATH'] ?? '',
    process.env['HOME'] ?? '',
    process.argv[1] ?? '',
    Object.keys(M._extensions),
  ]);
}

/** Answers `require` lookups from `dir` where nothing they depend on has changed; undefined
 * (and nothing changed) where that cannot be done safely. */
export function installResolutionCache(dir: string, options: ResolutionCacheOptions = {}): ResolutionCache | undefined {
  const M = Module as ModuleInternals;
  if (!plainResolution() || !privateDir(dir)) return undefined;
  const key = cacheKey(M);
  const file = join(dir, `resolutions-${createHash('sha1').update(key).digest('hex').slice(0, 20)}.json`);
  const freshAfterNs = BigInt(Math.floor(performance.timeOrigin - (options.marginMs ?? MARGIN_MS))) * 1_000_000n;
  const extensions = Object.keys(M._extensions).join('\0');

  /** Answers an earlier start wrote (its entries as stored), by lookup, not yet checked; the
   * paths they depend on and what those were then. */
  const stored = new Map<string, unknown[]>();
  let storedDeps: string[] = [];
  let storedPrints: string[] = [];
  try {
    const read: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (isStored(read) && read.key === key) {
      ({ deps: storedDeps, prints: storedPrints } = read);
      for (const e of read.entries as unknown[]) {
        if (Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'string') stored.set(`${e[0]}\0${e[1]}`, e);
      }
    }
  } catch {
    // No cache yet, or one that cannot be read: resolve as usual.
  }
  /** Whether each path is still what it was, looked at once, when an answer first needs it:
   * a start stats only the paths of the answers it uses. */
  const same: Array<boolean | undefined> = [];
  const unchanged = (i: unknown): boolean => {
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= storedDeps.length) return false;
    return (same[i] ??= printOf(storedDeps[i] as string, freshAfterNs).print === storedPrints[i]);
  };
  /** Answers checked or found in this process. */
  const known = new Map<string, string>();
  const fromStore = (lookup: string): string | undefined => {
    const e = stored.get(lookup);
    if (e === undefined) return undefined;
    stored.delete(lookup);
    const [, , answer, ids] = e;
    if (typeof answer !== 'string' || !isAbsolute(answer) || !Array.isArray(ids) || !ids.every(unchanged)) return undefined;
    known.set(lookup, answer);
    return answer;
  };

  const found = new Map<string, string>();
  let recording = true;
  const stats = { hits: 0, misses: 0 };
  const original = M._resolveFilename;
  M._resolveFilename = function resolveCached(request, parent, isMain, resolveOptions) {
    const from = parent?.filename;
    const cacheable =
      typeof request === 'string' &&
      !request.startsWith('#') &&
      resolveOptions === undefined &&
      !isMain &&
      typeof from === 'string' &&
      Object.keys(M._extensions).join('\0') === extensions;
    if (!cacheable) return original.call(this, request, parent, isMain, resolveOptions);
    const lookup = `${dirname(from)}\0${request}`;
    const hit = known.get(lookup) ?? fromStore(lookup);
    if (hit !== undefined) {
      stats.hits++;
      return hit;
    }
    const answer = original.call(this, request, parent, isMain, resolveOptions);
    stats.misses++;
    // Built-in modules answer with their name; only files are kept.
    if (recording && isAbsolute(answer)) found.set(lookup, answer);
    return answer;
  };

  return {
    stats,
    flush() {
      recording = false;
      if (found.size === 0) return;
      const fresh = [...found];
      found.clear();
      try {
        const index = new Map<string, number>();
        const prints: Print[] = [];
        const entry = (lookup: string, answer: string): [string, string, string, number[]] | undefined => {
          const at = lookup.indexOf('\0');
          const fromDir = lookup.slice(0, at);
          const request = lookup.slice(at + 1);
          let paths: Set<string>;
          try {
            paths = dependencies(fromDir, request, answer);
          } catch {
            return undefined;
          }
          const deps = [...paths].map((path) => {
            let i = index.get(path);
            if (i === undefined) {
              i = prints.length;
              index.set(path, i);
              prints.push(printOf(path, freshAfterNs));
            }
            return i;
          });
          // Something it depends on changed around this start: its answer may predate that.
          return deps.some((i) => (prints[i] as Print).fresh) ? undefined : [fromDir, request, answer, deps];
        };
        const added = fresh.map(([lookup, answer]) => entry(lookup, answer)).filter((e) => e !== undefined);
        if (added.length === 0) return;
        // The answers not wanted in this process are kept if they still hold.
        for (const lookup of [...stored.keys()]) fromStore(lookup);
        const kept = known.size + added.length > MAX_ENTRIES ? [] : [...known].map(([lookup, answer]) => entry(lookup, answer)).filter((e) => e !== undefined);
        for (const [fromDir, request, answer] of added) known.set(`${fromDir}\0${request}`, answer);
        const written: Stored = { v: VERSION, key, deps: [...index.keys()], prints: prints.map((p) => p.print), entries: [...kept, ...added] };
        // Whole or not at all: a reader never sees half a file.
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, JSON.stringify(written), { mode: 0o600 });
        renameSync(tmp, file);
      } catch {
        // A full disk or a vanished directory only costs the next start its lookups.
      }
    },
  };
}
