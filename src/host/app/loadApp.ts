import { existsSync, readFileSync } from 'node:fs';
import { Server as HttpServer } from 'node:http';
import { Server } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type FastGlob from 'fast-glob';
import type { Logger } from '../../observability/logger';
import { HostConfigError } from '../config/hostConfigError';
import type { RpcLogCategory, RpcLogLevel } from '../wire/rpcTypes';
import { createCoreApi, installCoreModule, type CoreApiState } from './coreApi';
import type { ProgrammingModel } from './coreTypes';
import { HookRegistry } from './hooks';
import { writeLog } from './invocationLog';
import { FunctionRegistry } from './registry';

export interface LoadedApp {
  readonly appDir: string;
  /** The entry point files, in the order they were loaded. */
  readonly entries: readonly string[];
  readonly registry: FunctionRegistry;
  readonly hooks: HookRegistry;
  readonly programmingModel: ProgrammingModel;
  /** The worker's HTTP proxy when the app streams HTTP (`app.setup({ enableHttpStream: true
   * })`, capability HttpUri): the node:http server the programming model opened, which the
   * host hands requests to (src/host/http/workerProxy.ts). */
  readonly workerHttpProxy: HttpServer | undefined;
  /** Closes what the programming model opened (the HTTP proxy), so a stopped host leaves no
   * listener behind to keep its process alive. */
  close(): Promise<void>;
}

/** Every pattern fast-glob calls dynamic has one of these (a wildcard, `!`, a class, a
 * group, an extglob, a brace expansion or an escape). */
const GLOB_CHARS = /[*?![({\\]/;

/**
 * The app's entry points as the Node.js worker finds them: package.json `main` is a glob
 * pattern relative to the app dir (`functions/*.js`, as in Microsoft's samples, or one
 * file); without `main`, index.js. The worker loads the matches in globby's order; here
 * they are sorted, so the load order does not depend on the file system.
 */
export function resolveEntries(appDir: string): string[] {
  const pkgFile = resolve(appDir, 'package.json');
  if (!existsSync(pkgFile)) return [resolve(appDir, 'index.js')];
  let main: unknown;
  try {
    main = (JSON.parse(readFileSync(pkgFile, 'utf8')) as { main?: unknown }).main;
  } catch (err) {
    throw new HostConfigError(`${pkgFile} is not JSON: ${(err as Error).message}`);
  }
  if (main === undefined || main === '') return [resolve(appDir, 'index.js')];
  if (typeof main !== 'string') throw new HostConfigError(`${pkgFile}: "main" must be a string (a file or a glob pattern)`);
  // fast-glob costs every host start a few dozen modules; a file name (the usual `main`)
  // has none of the characters a pattern needs, so it is loaded only for a pattern.
  if (!GLOB_CHARS.test(main)) return [resolve(appDir, main)];
  const fg = require('fast-glob') as typeof FastGlob;
  if (!fg.isDynamicPattern(main)) return [resolve(appDir, main)];
  const files = fg.sync(main, { cwd: appDir, onlyFiles: true, absolute: true }).sort();
  if (files.length === 0) {
    throw new HostConfigError(`unable to load entry point "${main}": found zero files matching the supplied pattern in ${appDir} (run \`npm run build\`?)`);
  }
  return files;
}

/**
 * Loads the app the way the Node.js worker does: install `@azure/functions-core`, then
 * require each entry point, whose `app.*` calls register functions and hooks through it.
 */
export async function loadApp(appDir: string, env: NodeJS.ProcessEnv, logger: Logger): Promise<LoadedApp> {
  const entries = resolveEntries(appDir);
  for (const entry of entries) {
    if (!existsSync(entry)) {
      throw new HostConfigError(`the app entry point ${entry} does not exist (run \`npm run build\`?)`);
    }
  }
  const systemLog = logger.child({ category: 'system' });
  const state: CoreApiState = {
    registry: new FunctionRegistry(env),
    hooks: new HookRegistry(),
    programmingModel: undefined,
    log: (level: RpcLogLevel, category: RpcLogCategory, message: string) => writeLog(systemLog, level, category, message),
  };
  installCoreModule(createCoreApi(state));

  const esm = isEsmPackage(appDir);
  for (const entry of entries) {
    if (/\.mjs$/.test(entry) || esm) {
      await import(pathToFileURL(entry).href);
    } else {
      require(entry);
    }
  }

  const model = state.programmingModel;
  if (model === undefined) {
    throw new HostConfigError(`${entries.join(', ')} registered no programming model: does it import "@azure/functions" and register functions?`);
  }
  const opened: Server[] = [];
  const capabilities = (await onLoopback(async () => model.getCapabilities?.({}), opened)) ?? {};
  const workerHttpProxy = capabilities['HttpUri'] === undefined ? undefined : httpProxyOf(opened);
  const close = async (): Promise<void> => {
    await Promise.all(opened.map((server) => new Promise<void>((done) => server.close(() => done()))));
  };
  return {
    appDir,
    entries,
    registry: state.registry,
    hooks: state.hooks,
    programmingModel: model,
    workerHttpProxy,
    close,
  };
}

function isEsmPackage(appDir: string): boolean {
  try {
    const pkg = JSON.parse(readFileSync(resolve(appDir, 'package.json'), 'utf8')) as { type?: unknown };
    return pkg.type === 'module';
  } catch {
    return false;
  }
}

/**
 * Runs `work` with servers that listen without naming an address bound to loopback. The
 * programming model's HTTP proxy (enableHttpStream) listens on every interface, as it may
 * inside Azure's worker sandbox; on one machine it must not open a second port to the network.
 */
async function onLoopback<T>(work: () => Promise<T>, opened: Server[]): Promise<T> {
  const original = Server.prototype.listen;
  Server.prototype.listen = function listenOnLoopback(this: Server, ...args: unknown[]) {
    opened.push(this);
    if (args.length === 0 || typeof args[0] === 'function') args.unshift(0, LOOPBACK);
    else if (typeof args[0] === 'number' && typeof args[1] !== 'string') args.splice(1, 0, LOOPBACK);
    return (original as (...a: unknown[]) => Server).apply(this, args);
  } as typeof original;
  try {
    return await work();
  } finally {
    Server.prototype.listen = original;
  }
}

const LOOPBACK = '127.0.0.1';

/** The HTTP server the programming model opened for its proxy. The worker runs in this
 * process, so the host hands it requests directly rather than through the port it announced
 * (the model may also open plain net servers, to look for a free port). */
function httpProxyOf(opened: readonly Server[]): HttpServer {
  const servers = [...new Set(opened.filter((s): s is HttpServer => s instanceof HttpServer))];
  if (servers.length !== 1) {
    throw new HostConfigError(`the programming model announced an HTTP proxy (HttpUri) but opened ${servers.length} node:http servers; expected exactly one`);
  }
  return servers[0] as HttpServer;
}
