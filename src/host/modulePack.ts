import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { basename, dirname, join, sep } from 'node:path';
import { Script } from 'node:vm';
import { privateDir, requireFor, type ModuleInternals } from './codeCache';

/**
 * The CommonJS modules of our own that a start loads (the host's and the app's, ~190), kept
 * between starts as one script of one function per module, with V8's code of that script.
 * Each module still gets its own `module`, `require` and cache entry, and loads when it is
 * required, in the same order, as before; only reading its file and compiling it are skipped.
 * One script of 190 functions compiles from its V8 code in a fraction of what 190 scripts
 * take (a script each is what Node does, and what every code cache keeps).
 *
 * A module is taken from the pack only while its file is the one the pack read (inode, size,
 * mtime and ctime as then); a file changed since loads from disk, as does anything not in the
 * pack, and the pack is written again (with the modules of earlier starts whose files have not
 * changed, so that starts of different apps do not take turns writing it). A file is packed only if it last changed
 * well before this process started (MARGIN_MS), so the source Node read is the one its print
 * describes. Modules that may call `import()` (Node 20 loses the callback of restored code)
 * and those with a hashbang line are left out, as are packages' (see packable()).
 *
 * Stack traces name each module's own file and line: each module's source starts on a line
 * of its own in the pack, and frames in the pack are mapped back (Error.prepareStackTrace).
 * The pack is not used with source maps on (Node maps only the files it compiled itself).
 *
 * The directory must be private (ours, mode 0700): code from it runs unchecked.
 */

/** A dependency changed later than this before the start is too fresh to pack. */
const MARGIN_MS = 2000;
const VERSION = 1;
/** Modules kept at most (ours: one build of the host, the app and the tests has ~700). */
const MAX_ENTRIES = 2000;

interface Entry {
  readonly file: string;
  /** `ino:size:mtimeNs:ctimeNs` of the file when its source was read. */
  readonly print: string;
  /** The module's source in the pack's text: [start, end) characters, and its first line (0-based). */
  readonly start: number;
  readonly end: number;
  readonly line: number;
}

interface Manifest {
  readonly v: number;
  readonly key: string;
  /** Names the pack's text and its V8 code (`<base>-<gen>.js`, `.cache`): a text is never
   * rewritten in place, so a cache never meets another text (V8 checks only its length). */
  readonly gen: string;
  readonly entries: Entry[];
}

export interface ModulePack {
  /** Writes the pack of the modules loaded so far if it differs from the one this start read;
   * only the first call does anything (a start's modules, not those loaded later). Never throws. */
  flush(): void;
  /** Modules taken from the pack, and loaded from their files, in this process. */
  readonly stats: { packed: number; loaded: number };
}

export interface ModulePackOptions {
  /** How long before this process started a file must have last changed (tests: 0). */
  readonly marginMs?: number;
}

function printOf(file: string): { print: string; changedNs: bigint } | undefined {
  try {
    const st = statSync(file, { bigint: true });
    return { print: `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`, changedNs: st.ctimeNs > st.mtimeNs ? st.ctimeNs : st.mtimeNs };
  } catch {
    return undefined;
  }
}

function isManifest(x: unknown, key: string): x is Manifest {
  if (typeof x !== 'object' || x === null) return false;
  const m = x as Partial<Manifest>;
  return (
    m.v === VERSION &&
    m.key === key &&
    typeof m.gen === 'string' &&
    /^[0-9a-f]{16}$/.test(m.gen) &&
    Array.isArray(m.entries) &&
    m.entries.every(
      (e: Partial<Entry>) =>
        typeof e === 'object' &&
        e !== null &&
        typeof e.file === 'string' &&
        typeof e.print === 'string' &&
        Number.isInteger(e.start) &&
        Number.isInteger(e.end) &&
        Number.isInteger(e.line),
    )
  );
}

/** Our own modules: a package's code may look at its callers' files through V8's call sites
 * (bindings, which loads better-sqlite3's addon, looks for the package.json above them), and a
 * call site in the pack names the pack. */
function packable(filename: string, content: string): boolean {
  return /\.c?js$/.test(filename) && !filename.includes(`${sep}node_modules${sep}`) && !content.startsWith('#!') && !content.includes('import(');
}

const HEADER = '(function () { return [\n';
const WRAPPER = 'function (exports, require, module, __filename, __dirname) {\n';

/** Packs the modules of this start and loads them from the pack at the next, in `dir`, for
 * the program `key` names; undefined (and nothing changed) where that cannot be done safely. */
export function installModulePack(dir: string, key: string, options: ModulePackOptions = {}): ModulePack | undefined {
  const M = Module as ModuleInternals;
  const loadJs = M._extensions['.js'];
  if (process.sourceMapsEnabled || loadJs === undefined || !privateDir(dir)) return undefined;
  const base = join(dir, `pack-${createHash('sha1').update(key).digest('hex').slice(0, 20)}`);
  const freshAfterNs = BigInt(Math.floor(performance.timeOrigin - (options.marginMs ?? MARGIN_MS))) * 1_000_000n;

  let text = '';
  let script: Script | undefined;
  let gen: string | undefined;
  let cacheRejected = true;
  /** The modules whose functions the pack's V8 code holds (those of the starts that wrote it):
   * V8 compiles a function only when it first runs, and keeps it in the code made after. */
  const covered = new Set<string>();
  const byFile = new Map<string, { entry: Entry; fn: (...args: unknown[]) => unknown }>();
  try {
    const manifest: unknown = JSON.parse(readFileSync(`${base}.json`, 'utf8'));
    if (isManifest(manifest, key)) {
      gen = manifest.gen;
      text = readFileSync(`${base}-${gen}.js`, 'utf8');
      let cachedData: Buffer | undefined;
      try {
        cachedData = readFileSync(`${base}-${gen}.cache`);
      } catch {
        cachedData = undefined;
      }
      script = new Script(text, { filename: `${base}-${gen}.js`, cachedData });
      cacheRejected = cachedData === undefined || script.cachedDataRejected === true;
      try {
        const files: unknown = JSON.parse(readFileSync(`${base}-${gen}.cached.json`, 'utf8'));
        if (Array.isArray(files)) for (const f of files) if (typeof f === 'string') covered.add(f);
      } catch {
        // Not known: the next start that runs the pack writes its code again.
      }
      const fns = script.runInThisContext() as unknown;
      if (Array.isArray(fns) && fns.length === manifest.entries.length) {
        manifest.entries.forEach((entry, i) => {
          if (typeof fns[i] === 'function') byFile.set(entry.file, { entry, fn: fns[i] as (...args: unknown[]) => unknown });
        });
      }
    }
  } catch {
    // No pack yet, or one that cannot be read: every module loads from its file.
    byFile.clear();
  }
  if (byFile.size > 0)
    mapStackFrames(
      `${base}-${gen}.js`,
      [...byFile.values()].map((p) => p.entry),
    );

  /** This start's modules, in load order: from the pack, or read by Node (with the print taken
   * right after the read). */
  const loaded: Array<{ file: string; print: string; source: string } | { file: string; packed: Entry }> = [];
  const recorded = new Set<string>();
  let recording = true;
  const stats = { packed: 0, loaded: 0 };

  M._extensions['.js'] = function loadPacked(module: NodeModule, filename: string): void {
    const packed = byFile.get(filename);
    if (packed !== undefined) {
      byFile.delete(filename);
      if (printOf(filename)?.print === packed.entry.print) {
        stats.packed++;
        if (recording && !recorded.has(filename)) {
          recorded.add(filename);
          loaded.push({ file: filename, packed: packed.entry });
        }
        packed.fn.call(module.exports, module.exports, requireFor(module, M), module, filename, dirname(filename));
        return;
      }
    }
    stats.loaded++;
    loadJs.call(this, module, filename);
  };
  const compile = M.prototype._compile;
  M.prototype._compile = function recordSource(this: NodeModule, content: string, filename: string, ...rest: unknown[]): unknown {
    const result = (compile as (...args: unknown[]) => unknown).call(this, content, filename, ...rest);
    // Only what compiled as CommonJS (Node 22 passes the format; 'module' is an ES module it
    // loads for require()).
    const format = rest[0];
    if (recording && !recorded.has(filename) && (format === undefined || format === 'commonjs') && packable(filename, content)) {
      const print = printOf(filename);
      if (print !== undefined && print.changedNs < freshAfterNs) {
        recorded.add(filename);
        loaded.push({ file: filename, print: print.print, source: content });
      }
    }
    return result;
  };

  return {
    stats,
    flush() {
      if (!recording) return;
      recording = false;
      const unchanged = loaded.every((m) => 'packed' in m);
      if (loaded.length === 0) return;
      if (unchanged && script !== undefined) {
        // The pack's code, with the functions this start ran, when it ran modules that code
        // does not hold (another app's start wrote it, or none did).
        const ran = loaded.map((m) => m.file);
        if (cacheRejected || ran.some((f) => !covered.has(f))) {
          write(`${base}-${gen}.cache`, script.createCachedData());
          write(`${base}-${gen}.cached.json`, JSON.stringify([...new Set([...(cacheRejected ? [] : covered), ...ran])]));
        }
        return;
      }
      try {
        const entries: Entry[] = [];
        const lines = (s: string): number => s.split('\n').length - 1;
        let out = HEADER;
        // The 0-based line the text written so far ends on.
        let line = lines(HEADER);
        // The modules of other starts (another app's) stay while their files do: starts of
        // different apps would otherwise write the pack in turn.
        const kept = [...byFile.entries()]
          .filter(([file, { entry }]) => !recorded.has(file) && printOf(file)?.print === entry.print)
          .map(([file, { entry }]) => ({ file, packed: entry }));
        for (const m of [...loaded, ...kept].slice(0, MAX_ENTRIES)) {
          const source = 'packed' in m ? text.slice(m.packed.start, m.packed.end) : m.source;
          const print = 'packed' in m ? m.packed.print : m.print;
          out += WRAPPER;
          line += lines(WRAPPER);
          entries.push({ file: m.file, print, start: out.length, end: out.length + source.length, line });
          const tail = `${source}\n},\n`;
          out += tail;
          line += lines(tail);
        }
        out += '];})()';
        // A source that is not a function body after all (a file Node compiled as an ES module
        // on its own) would make the whole pack unusable: then it is not written.
        new Script(out, { filename: `${base}.js` });
        // No V8 code yet: the next start, which runs the modules, keeps it with their functions.
        const next = randomBytes(8).toString('hex');
        write(`${base}-${next}.js`, out);
        write(`${base}.json`, JSON.stringify({ v: VERSION, key, gen: next, entries } satisfies Manifest));
        // Older texts and their code (another start's too, when two wrote at once).
        const prefix = `${basename(base)}-`;
        for (const name of readdirSync(dir)) {
          if (name.startsWith(prefix) && !name.startsWith(`${prefix}${next}.`)) rmSync(join(dir, name), { force: true });
        }
      } catch {
        // A full disk or a vanished directory only costs the next start its reads.
      }
    },
  };
}

/** Whole or not at all: a reader never sees half a file. */
function write(file: string, data: string | Buffer): void {
  try {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // As above: the next start reads the files.
  }
}

/** Frames in the pack name the module's file and line instead (columns are the same: each
 * module's source starts a line of its own). */
function mapStackFrames(packFile: string, entries: Entry[]): void {
  const starts = [...entries].sort((a, b) => a.line - b.line);
  const place = new RegExp(`${packFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+):(\\d+)`, 'g');
  const map = (frame: string): string =>
    frame.replace(place, (whole: string, l: string, c: string) => {
      const at = Number(l) - 1;
      let lo = 0;
      let hi = starts.length - 1;
      let found: Entry | undefined;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const e = starts[mid] as Entry;
        if (e.line <= at) {
          found = e;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      return found === undefined ? whole : `${found.file}:${at - found.line + 1}:${c}`;
    });
  // Node's own formatting (its Error.prepareStackTrace), else V8's; then the places mapped.
  const format = Error.prepareStackTrace;
  const errorToString = Error.prototype.toString;
  Error.prepareStackTrace = (error: Error, frames: NodeJS.CallSite[]): unknown => {
    if (format !== undefined) {
      const stack: unknown = format(error, frames);
      return typeof stack === 'string' ? map(stack) : stack;
    }
    let head: string;
    try {
      head = errorToString.call(error);
    } catch {
      head = '<error>';
    }
    return frames.length === 0 ? head : `${head}\n    at ${frames.map((f) => map(String(f))).join('\n    at ')}`;
  };
}
