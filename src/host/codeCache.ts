import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { dirname, join } from 'node:path';
import { constants as vmConstants, Script } from 'node:vm';

/**
 * V8's compiled code of each CommonJS module, kept between starts, for the Node versions
 * without `module.enableCompileCache` (Node 20): compiling is about a sixth of a host start.
 * Each module's entry is named by a hash of its path and its source, so an edited file never
 * meets an old entry; V8 itself refuses data from another V8 version or with other flags
 * (`cachedDataRejected`), and a truncated or corrupt file is refused the same way; the
 * module is then compiled as usual and its entry written again at the next flush.
 *
 * The directory must be private (ours, mode 0700): compiled code from it runs unchecked.
 */

export type ModuleInternals = typeof Module & {
  wrap(source: string): string;
  _resolveFilename(request: string, parent: NodeModule, isMain: boolean, options?: { paths?: string[] }): string;
  _resolveLookupPaths(request: string, parent: NodeModule): string[] | null;
  _extensions: NodeJS.RequireExtensions;
  _cache: NodeJS.Dict<NodeModule>;
  prototype: { _compile(this: NodeModule, content: string, filename: string): unknown };
};

/** A directory of more entries than this is emptied at the next flush: old builds' entries
 * are never read again, and one build of the host and the app has about 1,600 modules. */
const MAX_ENTRIES = 6000;

export interface CodeCache {
  /** Writes the entries of the modules compiled since the last flush (with the functions
   * they have run so far, which V8 compiles lazily). Never throws. */
  flush(): void;
}

/** Whether `dir` is a directory only this user can read and write (or could be made one). */
export function privateDir(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    return st.isDirectory() && (process.getuid === undefined || st.uid === process.getuid()) && (st.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

/** The `require` Node gives a module's code. */
export function requireFor(mod: NodeModule, M: ModuleInternals): NodeJS.Require {
  const require = ((id: string) => mod.require(id)) as NodeJS.Require;
  require.resolve = Object.assign((request: string, options?: { paths?: string[] }) => M._resolveFilename(request, mod, false, options), {
    paths: (request: string) => M._resolveLookupPaths(request, mod),
  });
  require.main = process.mainModule;
  require.extensions = M._extensions;
  require.cache = M._cache;
  return require;
}

/** Compiles every CommonJS module loaded from now on with V8 code cached in `dir`; undefined
 * (and nothing changed) where that cannot be done safely. */
export function installCodeCache(dir: string): CodeCache | undefined {
  const M = Module as ModuleInternals;
  const useMainLoader = (vmConstants as unknown as { USE_MAIN_CONTEXT_DEFAULT_LOADER?: symbol } | undefined)?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  // Without the default loader for `import()` in vm code (Node < 20.12), or with source maps
  // on (Node's own compile registers them), modules compile as Node does.
  if (useMainLoader === undefined || process.sourceMapsEnabled || !privateDir(dir)) return undefined;
  const pending = new Map<string, Script>();
  const original = M.prototype._compile;

  M.prototype._compile = function compileCached(this: NodeModule, content: string, filename: string): unknown {
    // Code that V8 restores from a cache loses its `import()` callback in Node 20
    // (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING): a module that may call import() compiles as usual.
    if (content.includes('import(')) return original.call(this, content, filename);
    const key = join(dir, createHash('sha1').update(filename).update('\0').update(content).digest('hex'));
    let cachedData: Buffer | undefined;
    try {
      cachedData = readFileSync(key);
    } catch {
      cachedData = undefined;
    }
    let script: Script;
    try {
      script = new Script(M.wrap(content), { filename, cachedData, importModuleDynamically: useMainLoader as never });
    } catch {
      // A syntax error: Node's own compile reports it as it always does.
      return original.call(this, content, filename);
    }
    if (cachedData === undefined || script.cachedDataRejected === true) pending.set(key, script);
    const fn = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
    return fn.call(this.exports, this.exports, requireFor(this, M), this, filename, dirname(filename));
  };

  return {
    flush() {
      if (pending.size === 0) return;
      try {
        if (readdirSync(dir).length + pending.size > MAX_ENTRIES) {
          for (const name of readdirSync(dir)) rmSync(join(dir, name), { force: true });
        }
        for (const [key, script] of pending) {
          // Whole or not at all: a reader never sees half an entry.
          const tmp = `${key}.${process.pid}.tmp`;
          writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
          renameSync(tmp, key);
        }
      } catch {
        // A full disk or a vanished directory only costs the next start its compile time.
      }
      pending.clear();
    },
  };
}
