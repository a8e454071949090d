import type { RpcBindingDirection, RpcBindingInfo, RpcFunctionMetadata } from '../wire/rpcTypes';
import { durationToMs } from '../wire/duration';
import type { FunctionCallback, FunctionMetadata } from './coreTypes';

/** One binding of a registered function, with its options (route, schedule, queueName, ...)
 * after `%SETTING%` expressions were resolved from app settings. */
export interface BindingSpec {
  readonly name: string;
  readonly type: string;
  readonly direction: RpcBindingDirection;
  readonly options: Readonly<Record<string, unknown>>;
}

export interface RetryPolicy {
  readonly strategy: 'fixedDelay' | 'exponentialBackoff';
  readonly maxRetryCount: number;
  readonly delayMs: number;
  readonly minimumMs: number;
  readonly maximumMs: number;
}

export interface RegisteredFunction {
  readonly name: string;
  readonly id: string;
  readonly trigger: BindingSpec;
  /** Every binding, trigger first, in registration order. */
  readonly bindings: readonly BindingSpec[];
  readonly inputs: readonly BindingSpec[];
  readonly outputs: readonly BindingSpec[];
  readonly retry: RetryPolicy | undefined;
  /** What the programming model sees as `CoreInvocationContext.metadata`. */
  readonly metadata: RpcFunctionMetadata;
  readonly callback: FunctionCallback;
}

export const RETURN_BINDING = '$return';

/** Function names as Azure Functions accepts them. */
const FUNCTION_NAME = /^[a-zA-Z][a-zA-Z0-9_-]{0,127}$/;

export const isTriggerType = (type: string): boolean => /trigger$/i.test(type);

/** A string option of a binding, or undefined. */
export function stringOption(binding: BindingSpec, key: string): string | undefined {
  const value = binding.options[key];
  return typeof value === 'string' ? value : undefined;
}

export class FunctionRegistry {
  readonly #functions = new Map<string, RegisteredFunction>();

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  register(metadata: FunctionMetadata, callback: FunctionCallback): RegisteredFunction {
    if (!metadata || typeof metadata.name !== 'string' || metadata.name === '') {
      throw new Error('registerFunction: "name" is required');
    }
    if (!FUNCTION_NAME.test(metadata.name)) {
      throw new Error(`"${metadata.name}" is not a valid function name (a letter, then up to 127 letters, digits, _ or -)`);
    }
    if (typeof callback !== 'function') throw new Error(`registerFunction: function "${metadata.name}" has no handler`);
    const key = metadata.name.toLowerCase();
    if (this.#functions.has(key)) throw new Error(`a function named "${metadata.name}" is already registered`);

    const bindings = Object.entries(metadata.bindings ?? {}).map(([name, info]) => this.#toBinding(metadata.name, name, info));
    const triggers = bindings.filter((b) => isTriggerType(b.type) && b.direction === 'in');
    if (triggers.length !== 1) {
      throw new Error(`function "${metadata.name}" must have exactly one trigger binding (found ${triggers.length})`);
    }
    const trigger = triggers[0] as BindingSpec;
    const fn: RegisteredFunction = {
      name: metadata.name,
      id: metadata.functionId ?? metadata.name,
      trigger,
      bindings: [trigger, ...bindings.filter((b) => b !== trigger)],
      inputs: bindings.filter((b) => b !== trigger && b.direction !== 'out'),
      outputs: bindings.filter((b) => b.direction !== 'in'),
      retry: toRetryPolicy(metadata),
      metadata: {
        name: metadata.name,
        functionId: metadata.functionId ?? metadata.name,
        bindings: Object.fromEntries(bindings.map((b) => [b.name, { ...b.options, type: b.type, direction: b.direction }])),
        retryOptions: metadata.retryOptions ?? null,
      },
      callback,
    };
    this.#functions.set(key, fn);
    return fn;
  }

  get(name: string): RegisteredFunction | undefined {
    return this.#functions.get(name.toLowerCase());
  }

  all(): readonly RegisteredFunction[] {
    return [...this.#functions.values()];
  }

  #toBinding(functionName: string, name: string, info: RpcBindingInfo): BindingSpec {
    const { type, direction, ...rest } = info;
    if (typeof type !== 'string' || type === '') throw new Error(`function "${functionName}": binding "${name}" has no type`);
    const options: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(rest)) {
      options[key] = this.#resolveSettings(functionName, value);
    }
    return { name, type, direction: direction ?? 'in', options };
  }

  /** Binding options may name app settings as `%NAME%`, resolved once at registration like
   * the Functions host does, so e.g. a timer's schedule can come from a setting. */
  #resolveSettings(functionName: string, value: unknown): unknown {
    if (typeof value === 'string') {
      return value.replace(/%([^%\s]+)%/g, (_match, setting: string) => {
        const resolved = this.env[setting];
        if (resolved === undefined) {
          throw new Error(`function "${functionName}": binding expression '%${setting}%' does not resolve to an app setting`);
        }
        return resolved;
      });
    }
    if (Array.isArray(value)) return value.map((v) => this.#resolveSettings(functionName, v));
    return value;
  }
}

function toRetryPolicy(metadata: FunctionMetadata): RetryPolicy | undefined {
  const retry = metadata.retryOptions;
  if (!retry || !retry.retryStrategy) return undefined;
  return {
    strategy: retry.retryStrategy,
    maxRetryCount: retry.maxRetryCount ?? 0,
    delayMs: durationToMs(retry.delayInterval),
    minimumMs: durationToMs(retry.minimumInterval),
    maximumMs: durationToMs(retry.maximumInterval),
  };
}
