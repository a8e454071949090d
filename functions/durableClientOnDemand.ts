/**
 * Imported first by index.ts, before any module imports `durable-functions`: the SDK's
 * entry (and its `app.js`, for `df.app.client`) requires the DurableClient half at load,
 * with axios, form-data, validator and lodash (and axios's first look at `fetch` starts
 * Node's bundled undici): about a third of the app's load, on every host start, for a
 * client no function makes before its first invocation. This puts a stand-in for the SDK's
 * `durableClient/getClient` module in the require cache; its first call requires the real
 * module (the same file, the same SDK) and hands every call on to it.
 *
 * Only the SDK's own modules require that file, and they read its exports at call time.
 * If the SDK moves it, or something loaded it already, nothing is replaced and the SDK
 * loads as it always did.
 */
type GetClientModule = Record<'getClient' | 'isDurableClientInput', (...args: unknown[]) => unknown>;

function installOnDemand(): void {
  let file: string;
  try {
    file = require.resolve('durable-functions/lib/src/durableClient/getClient.js');
  } catch {
    return;
  }
  if (require.cache[file] !== undefined) return;
  const stand = new (module.constructor as new (id: string, parent?: NodeModule) => NodeModule)(file, module);
  let real: GetClientModule | undefined;
  const load = (): GetClientModule => {
    if (real === undefined) {
      // The real module takes the stand-in's place in the cache, for anything required later.
      delete require.cache[file];
      real = require(file) as GetClientModule;
    }
    return real;
  };
  stand.filename = file;
  stand.loaded = true;
  stand.exports = {
    __esModule: true,
    getClient: (...args: unknown[]) => load().getClient(...args),
    isDurableClientInput: (...args: unknown[]) => load().isDurableClientInput(...args),
  };
  require.cache[file] = stand;
}

installOnDemand();
