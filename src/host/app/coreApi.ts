import Module from 'node:module';
import type { RpcLogCategory, RpcLogLevel } from '../wire/rpcTypes';
import type { Disposable, FunctionCallback, FunctionMetadata, HookCallback, ProgrammingModel } from './coreTypes';
import type { HookRegistry } from './hooks';
import type { FunctionRegistry } from './registry';

export const CORE_MODULE = '@azure/functions-core';
/** Reported as `hostVersion` so apps can tell hosts apart in logs; not a Functions version. */
export const EMBEDDED_HOST_VERSION = '4.0.0-ledgerflow-embedded';

export interface CoreApiState {
  readonly registry: FunctionRegistry;
  readonly hooks: HookRegistry;
  programmingModel: ProgrammingModel | undefined;
  log(level: RpcLogLevel, category: RpcLogCategory, message: string): void;
}

class CoreDisposable implements Disposable {
  static from(...items: { dispose: () => unknown }[]): CoreDisposable {
    return new CoreDisposable(() => items.forEach((item) => item.dispose()));
  }
  #callOnDispose: (() => unknown) | undefined;
  constructor(callOnDispose: () => unknown) {
    this.#callOnDispose = callOnDispose;
  }
  dispose(): void {
    this.#callOnDispose?.();
    this.#callOnDispose = undefined;
  }
}

/** The object `require('@azure/functions-core')` returns: the worker's public API
 * (worker `src/setupCoreModule.ts`), backed by this host's registries. */
export function createCoreApi(state: CoreApiState) {
  return {
    version: EMBEDDED_HOST_VERSION,
    hostVersion: EMBEDDED_HOST_VERSION,
    registerFunction(metadata: FunctionMetadata, callback: FunctionCallback): Disposable {
      state.registry.register(metadata, callback);
      return new CoreDisposable(() => {
        throw new Error('functions cannot be unregistered once the app has loaded');
      });
    },
    registerHook(hookName: string, callback: HookCallback): Disposable {
      const handle = state.hooks.register(hookName, callback);
      return new CoreDisposable(() => handle.dispose());
    },
    setProgrammingModel(model: ProgrammingModel): void {
      state.programmingModel = model;
    },
    getProgrammingModel(): ProgrammingModel | undefined {
      return state.programmingModel;
    },
    log(level: RpcLogLevel, category: RpcLogCategory, message: string): void {
      state.log(level, category, message);
    },
    Disposable: CoreDisposable,
  };
}

export type CoreApi = ReturnType<typeof createCoreApi>;

let installed: CoreApi | undefined;

/**
 * Makes `require('@azure/functions-core')` return `api` in this process, as the worker does:
 * the module exists only at run time, provided by whoever hosts the app. One app per process.
 */
export function installCoreModule(api: CoreApi): void {
  if (installed === undefined) {
    const original = Module.prototype.require;
    const patched = function (this: NodeJS.Module, id: string) {
      if (id === CORE_MODULE && installed !== undefined) return installed;
      return original.call(this, id);
    };
    Module.prototype.require = Object.assign(patched, original) as NodeJS.Require;
  }
  installed = api;
}
