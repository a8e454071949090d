import { format } from 'node:util';
import type { RpcBindingInfo, RpcLogLevel, RpcTypedData } from '../wire/rpcTypes';
import { fromTypedData, toCamelCaseKey, toCamelCaseValue, toTypedData, UNSUPPORTED } from '../wire/typedData';
import type { ProgrammingModel } from './coreTypes';
import { InvocationLog } from './invocationLog';
import type { InvocationInput, InvocationResult, InvokeDeps } from './invocationTypes';
import type { RegisteredFunction } from './registry';

/**
 * An invocation of a durable trigger (orchestrator episode, activity, entity batch) done
 * as `@azure/functions` 4.x would do it, without its InvocationModel. For these triggers
 * the model only parses typed data, makes an InvocationContext, calls the handler and
 * serialises its return value, but each invocation costs it six WeakMap entries (which
 * survive scavenges), three async frames and its binding options rebuilt from the metadata:
 * an activity took 18-22 µs of CPU through the model and takes 7-8 µs here (in process,
 * 64 in flight; docs/durable.md, "Through the embedded host"). The
 * handler gets the same arguments: its trigger value, and an instance of the model's own
 * InvocationContext class built through its public constructor with what the model would
 * pass (test/unit/host/directInvocation.test.ts compares the two paths).
 */

/** The constructor of `@azure/functions`' InvocationContext (its `InvocationContextInit`). */
type ContextClass = new (init: {
  invocationId: string;
  functionName: string;
  logHandler: (this: unknown, level: RpcLogLevel, ...args: unknown[]) => void;
  retryContext: { retryCount: number; maxRetryCount: number } | undefined;
  traceContext: undefined;
  triggerMetadata: Record<string, unknown>;
  options: FunctionOptions;
}) => object;

interface FunctionOptions {
  trigger: RpcBindingInfo & { name: string; type: string };
  return: undefined;
  extraInputs: never[];
  extraOutputs: never[];
}

const MODEL_NAME = '@azure/functions';
const MODEL_MAJOR = '4.';
/** The triggers whose data the model only parses (no HTTP request, timer camel-casing, MCP context). */
const DIRECT_TRIGGERS = /^(?:activity|orchestration|entity)Trigger$/i;

/** The model's InvocationContext class, learnt from a context it made (the first invocation
 * of any function goes through the model). */
const contextClasses = new WeakMap<ProgrammingModel, ContextClass>();

export function learnContextClass(model: ProgrammingModel, context: unknown): void {
  if (contextClasses.has(model) || model.name !== MODEL_NAME || !model.version.startsWith(MODEL_MAJOR)) return;
  const ctor = (context as { constructor?: unknown } | null)?.constructor;
  if (typeof ctor === 'function' && ctor.name === 'InvocationContext') contextClasses.set(model, ctor as ContextClass);
}

/** The function's trigger binding as the model gives it in `context.options.trigger`
 * (`fromRpcBindings`: the binding's fields, then `type` and `name`), or null when its
 * invocations go through the model. */
const triggerOptions = new WeakMap<RegisteredFunction, FunctionOptions['trigger'] | null>();

function triggerOptionsOf(fn: RegisteredFunction): FunctionOptions['trigger'] | null {
  let options = triggerOptions.get(fn);
  if (options === undefined) {
    const bindings = fn.metadata.bindings ?? {};
    const info = bindings[fn.trigger.name];
    // Only a lone trigger: extra bindings are resolved and converted by the model.
    const direct = DIRECT_TRIGGERS.test(fn.trigger.type) && Object.keys(bindings).length === 1 && info !== undefined;
    options = direct ? { ...info, type: fn.trigger.type, name: fn.trigger.name } : null;
    triggerOptions.set(fn, options);
  }
  return options;
}

/**
 * The model's user log handler: a line logged after the function finished still goes out,
 * after a warning that something was not awaited. It does not keep the InvocationContext:
 * the context keeps this handler as the value of a WeakMap entry (its private field), and
 * V8's young-generation GC keeps such values alive, so a handler that reached back to its
 * key would keep the whole context (and what it reaches) alive until the next full GC. The
 * context calls its handler with itself as `this` (`InvocationContext.log` and its
 * siblings), which is the context log hooks are shown.
 */
class HandlerLog extends InvocationLog {
  /** Set once the function's promise settled. */
  done = false;

  write(level: RpcLogLevel, args: unknown[], context: unknown): void {
    if (this.done && this.state !== 'postInvocationHooks') {
      const warning =
        "Warning: Unexpected call to 'log' on the context object after function execution has completed. Please check for asynchronous calls that are not awaited. " +
        `Function name: ${this.functionName}. Invocation Id: ${this.invocationId}.`;
      this.log('warning', 'system', format(warning), context);
    }
    this.log(level, 'user', format(...args), context);
  }
}

/**
 * The invocation done directly, or undefined when it must go through the programming
 * model: another model, a trigger or data the model treats specially, extra inputs, or
 * invocation hooks (which see the model's own objects).
 */
export function invokeDirectly(
  deps: InvokeDeps,
  fn: RegisteredFunction,
  input: InvocationInput,
  invocationId: string,
  extraInputs: InvocationInput['inputs'],
): Promise<InvocationResult> | undefined {
  const Context = contextClasses.get(deps.programmingModel);
  if (Context === undefined || deps.hooks.has('preInvocation') || deps.hooks.has('postInvocation')) return undefined;
  if (extraInputs !== undefined && Object.keys(extraInputs).length > 0) return undefined;
  const trigger = triggerOptionsOf(fn);
  if (trigger === null) return undefined;
  let value: unknown;
  let triggerMetadata: Record<string, unknown> | undefined;
  try {
    value = fromTypedData(input.trigger);
    triggerMetadata = metadataOf(input.triggerMetadata);
  } catch (err) {
    // Data that is not JSON fails the invocation, as it fails the model's getArguments.
    return Promise.reject(err as Error);
  }
  if (value === UNSUPPORTED || triggerMetadata === undefined) return undefined;
  const retry = input.retryContext;
  const log = new HandlerLog(deps.hooks, deps.logger, fn.name, invocationId);
  const context = new Context({
    invocationId,
    functionName: fn.name,
    logHandler(this: unknown, level, ...args) {
      log.write(level, args, this);
    },
    retryContext: retry && { retryCount: retry.retryCount, maxRetryCount: retry.maxRetryCount },
    traceContext: undefined,
    triggerMetadata,
    options: { trigger: { ...trigger }, return: undefined, extraInputs: [], extraOutputs: [] },
  });
  return run(fn, log, value, context, input.inspectResult, invocationId);
}

/** `fromRpcTriggerMetadata` (every key camel-cased, every value converted), or undefined
 * when a value is data the model must convert. */
function metadataOf(metadata: InvocationInput['triggerMetadata']): Record<string, unknown> | undefined {
  const result: Record<string, unknown> = {};
  if (metadata === undefined) return result;
  for (const [key, data] of Object.entries(metadata)) {
    const value = fromTypedData(data);
    if (value === UNSUPPORTED) return undefined;
    result[toCamelCaseKey(key)] = toCamelCaseValue(value);
  }
  return result;
}

async function run(
  fn: RegisteredFunction,
  log: HandlerLog,
  value: unknown,
  context: object,
  inspectResult: InvocationInput['inspectResult'],
  invocationId: string,
): Promise<InvocationResult> {
  log.state = 'invocation';
  let result: unknown;
  try {
    result = await fn.callback(value, context);
  } finally {
    log.state = undefined;
    log.done = true;
  }
  inspectResult?.(result);
  return { invocationId, returnValue: toTypedData(result), outputs: NO_OUTPUTS };
}

const NO_OUTPUTS: ReadonlyMap<string, RpcTypedData> = new Map();
