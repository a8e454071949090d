import Module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installCodeCache, type CodeCache } from './codeCache';
import { installModulePack } from './modulePack';
import { cacheKey, installResolutionCache, plainResolution } from './resolutionCache';

/**
 * Node 22.1+ keeps V8's compiled code of every module it loads in a cache directory
 * (`NODE_COMPILE_CACHE`, else `<tmpdir>/node-compile-cache`; keyed by the file's content and
 * the Node version, so a stale entry is never used) and skips most compilation on the next
 * start: about a seventh of loading the host and the app. Node 20 has no such cache; there
 * ./codeCache.ts keeps one of its own, in `<tmpdir>/ledgerflow-code-cache-<uid>/`. Where each
 * require resolved to is kept there too, on every Node (./resolutionCache.ts). Imported first
 * by main.ts, before the modules it speeds up.
 */
const node = Module as { enableCompileCache?: () => unknown; flushCompileCache?: () => void };
const dir = join(tmpdir(), `ledgerflow-code-cache-${process.getuid?.() ?? 'user'}`);

let own: CodeCache | undefined;
if (node.enableCompileCache !== undefined) node.enableCompileCache();
else own = installCodeCache(join(dir, `${process.version}-${process.arch}`));
const resolutions = installResolutionCache(dir);
// Last: what it records is what Node (or the code cache above) compiled.
const pack = plainResolution() ? installModulePack(dir, cacheKey(Module as Parameters<typeof cacheKey>[0])) : undefined;

/** Writes the code compiled and the requires resolved so far (main.ts: once the host has
 * started, and at exit), so that a host stopped by SIGKILL still leaves the next start its
 * cache. */
export function flushCompileCache(): void {
  if (own !== undefined) own.flush();
  else node.flushCompileCache?.();
  resolutions?.flush();
  pack?.flush();
}
