import { join, sep } from 'node:path';

/**
 * Module loading is most of a host start. Some packages require, at load, modules that
 * nothing needs until much later, or ever. `loadOnDemand(file)` puts a stand-in for `file` in
 * the require cache: the first look at one of its exports requires the real file (the same
 * package, unchanged) and answers from it; so does everything after. Only for modules whose
 * importers read the exports when they use them, not when they load.
 *
 * A file that cannot be resolved, or that is loaded already, is left as it is: the package
 * then loads as it always did.
 */
/** The stand-ins whose real module has not loaded yet, by file, with what waits for it. */
const waiting = new Map<string, { readonly stand: NodeModule; readonly callbacks: Array<() => void> }>();

export function loadOnDemand(resolveFile: () => string): void {
  let file: string;
  try {
    file = resolveFile();
  } catch {
    return;
  }
  if (require.cache[file] !== undefined) return;
  // The proxy's target takes the real exports' properties when they load, so that what the
  // proxy reports (keys, descriptors) is what the target holds, as Proxy requires.
  const target: object = {};
  let loaded = false;
  const real = (): object => {
    if (!loaded) {
      loaded = true;
      // The real module takes the stand-in's place in the cache, for whatever requires it next.
      delete require.cache[file];
      Object.defineProperties(target, Object.getOwnPropertyDescriptors(require(file) as object));
      const callbacks = waiting.get(file)?.callbacks ?? [];
      waiting.delete(file);
      for (const callback of callbacks) callback();
    }
    return target;
  };
  const stand = new (module.constructor as new (id: string, parent?: NodeModule) => NodeModule)(file, module);
  stand.filename = file;
  stand.loaded = true;
  stand.exports = new Proxy(target, {
    // TypeScript's and the packages' own import helpers ask this at load; it must not load.
    get: (_, key) => (key === '__esModule' && !loaded ? true : Reflect.get(real(), key)),
    has: (_, key) => Reflect.has(real(), key),
    ownKeys: () => Reflect.ownKeys(real()),
    getOwnPropertyDescriptor: (_, key) => Reflect.getOwnPropertyDescriptor(real(), key),
  });
  require.cache[file] = stand;
  waiting.set(file, { stand, callbacks: [] });
}

/**
 * Runs `callback` when `file`'s real module has loaded: now if it has, or if it is not
 * loaded on demand; else right after the first look at an export loads it, before that
 * export is handed out (so before anything the caller does with it). Returns what cancels a
 * callback that has not run yet.
 */
export function whenLoaded(file: string, callback: () => void): () => void {
  const entry = waiting.get(file);
  // A stand-in someone took out of the cache no longer sees the real module load.
  if (entry === undefined || require.cache[file] !== entry.stand) {
    waiting.delete(file);
    for (const waited of [...(entry?.callbacks ?? []), callback]) waited();
    return () => undefined;
  }
  const { callbacks } = entry;
  callbacks.push(callback);
  return () => {
    const at = callbacks.indexOf(callback);
    if (at >= 0) callbacks.splice(at, 1);
  };
}

/** `file` inside the installed package `pkg`, which its `exports` map may not list. */
export function packageFile(pkg: string, file: string): string {
  const main = require.resolve(pkg);
  const root = `${sep}node_modules${sep}${pkg}${sep}`;
  const at = main.lastIndexOf(root);
  if (at < 0) throw new Error(`${pkg} is not installed under node_modules`);
  return join(main.slice(0, at + root.length), file);
}
