import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from '../../observability/logger';
import { HostConfigError } from '../config/hostConfigError';
import type { RpcLogCategory, RpcLogLevel } from '../wire/rpcTypes';
import { createCoreApi, installCoreModule, type CoreApiState } from './coreApi';
import type { ProgrammingModel } from './coreTypes';
import { HookRegistry } from './hooks';
import { writeLog } from './invoke';
import { FunctionRegistry } from './registry';

export interface LoadedApp {
  readonly appDir: string;
  readonly entry: string;
  readonly registry: FunctionRegistry;
  readonly hooks: HookRegistry;
  readonly programmingModel: ProgrammingModel;
}

/** The app's entry point: package.json `main` (as the worker reads it), else index.js. */
export function resolveEntry(appDir: string): string {
  const pkgFile = resolve(appDir, 'package.json');
  if (!existsSync(pkgFile)) return resolve(appDir, 'index.js');
  let main: unknown;
  try {
    main = (JSON.parse(readFileSync(pkgFile, 'utf8')) as { main?: unknown }).main;
  } catch (err) {
    throw new HostConfigError(`${pkgFile} is not JSON: ${(err as Error).message}`);
  }
  if (main === undefined) return resolve(appDir, 'index.js');
  if (typeof main !== 'string' || main.includes('*')) {
    throw new HostConfigError(`${pkgFile}: "main" must name one file (globs are not supported by the embedded host)`);
  }
  return resolve(appDir, main);
}

/**
 * Loads the app the way the Node.js worker does: install `@azure/functions-core`, then
 * require the entry point, whose `app.*` calls register functions and hooks through it.
 */
export async function loadApp(appDir: string, env: NodeJS.ProcessEnv, logger: Logger): Promise<LoadedApp> {
  const entry = resolveEntry(appDir);
  if (!existsSync(entry)) {
    throw new HostConfigError(`the app entry point ${entry} does not exist (run \`npm run build\`?)`);
  }
  const systemLog = logger.child({ category: 'system' });
  const state: CoreApiState = {
    registry: new FunctionRegistry(env),
    hooks: new HookRegistry(),
    programmingModel: undefined,
    log: (level: RpcLogLevel, category: RpcLogCategory, message: string) => writeLog(systemLog, level, category, message),
  };
  installCoreModule(createCoreApi(state));

  if (/\.mjs$/.test(entry) || isEsmPackage(appDir)) {
    await import(pathToFileURL(entry).href);
  } else {
    require(entry);
  }

  const model = state.programmingModel;
  if (model === undefined) {
    throw new HostConfigError(`${entry} registered no programming model: does it import "@azure/functions" and register functions?`);
  }
  const capabilities = (await model.getCapabilities?.({})) ?? {};
  if (capabilities['HttpUri'] !== undefined) {
    throw new HostConfigError('HTTP streaming (app.setup({ enableHttpStream: true })) is not supported by the embedded host');
  }
  return { appDir, entry, registry: state.registry, hooks: state.hooks, programmingModel: model };
}

function isEsmPackage(appDir: string): boolean {
  try {
    const pkg = JSON.parse(readFileSync(resolve(appDir, 'package.json'), 'utf8')) as { type?: unknown };
    return pkg.type === 'module';
  } catch {
    return false;
  }
}
