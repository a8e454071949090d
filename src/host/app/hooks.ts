import type { Disposable, HookCallback, HookData, HookName } from './coreTypes';

const KNOWN_HOOKS: readonly string[] = ['appStart', 'appTerminate', 'preInvocation', 'postInvocation', 'log'];

/** Lifecycle hooks registered through the core API, run in registration order; a hook that
 * throws stops the chain (the worker's `executeHooks` semantics). */
export class HookRegistry {
  readonly appHookData: HookData = {};
  readonly #hooks = new Map<HookName, HookCallback[]>();

  register(name: string, callback: HookCallback): Disposable {
    if (!KNOWN_HOOKS.includes(name)) throw new Error(`"${name}" is not a valid hook name`);
    const hookName = name as HookName;
    const list = this.#hooks.get(hookName) ?? [];
    list.push(callback);
    this.#hooks.set(hookName, list);
    return {
      dispose: () => {
        const current = this.#hooks.get(hookName) ?? [];
        this.#hooks.set(
          hookName,
          current.filter((cb) => cb !== callback),
        );
      },
    };
  }

  has(name: HookName): boolean {
    return (this.#hooks.get(name)?.length ?? 0) > 0;
  }

  async run(name: HookName, context: object): Promise<void> {
    for (const callback of [...(this.#hooks.get(name) ?? [])]) {
      await callback(context);
    }
  }

  /** Log hooks are synchronous: they may rewrite a user log line before it is written. */
  runSync(name: HookName, context: object): void {
    for (const callback of [...(this.#hooks.get(name) ?? [])]) callback(context);
  }

  /** A hook context whose `hookData`, `appHookData` (and `invocationContext`, when given)
   * can be changed but not replaced, as the worker's hook contexts behave. */
  context<T extends object>(hookData: HookData, extra: T, invocationContext?: unknown): T & HookContextBase {
    const appHookData = this.appHookData;
    const readonly: PropertyDescriptorMap = {
      hookData: { get: () => hookData, enumerable: true },
      appHookData: { get: () => appHookData, enumerable: true },
    };
    if (invocationContext !== undefined) readonly['invocationContext'] = { get: () => invocationContext, enumerable: true };
    return Object.defineProperties(extra, readonly) as T & HookContextBase;
  }
}

export interface HookContextBase {
  readonly hookData: HookData;
  readonly appHookData: HookData;
}
