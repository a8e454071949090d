import { format } from 'node:util';
import { NOT_PLAIN } from '../wire/httpData';
import type { RpcBindingInfo, RpcLogLevel, RpcTypedData } from '../wire/rpcTypes';
import { convertible, fromTypedData, toCamelCaseKey, toCamelCaseValue, toTypedData, UNSUPPORTED } from '../wire/typedData';
import { CoreContext } from './coreContext';
import type { ProgrammingModel } from './coreTypes';
import { deferredInit, requestClassOf } from './deferredHttp';
import { InvocationLog } from './invocationLog';
import type { InvocationInput, InvocationResult, InvokeDeps } from './invocationTypes';
import { RETURN_BINDING, type RegisteredFunction } from './registry';

/**
 * An invocation done as `@azure/functions` 4.x would do it, without its InvocationModel:
 * durable triggers (orchestrator episode, activity, entity batch) and HTTP triggers whose
 * only output is `$return`. For these the model only converts typed data, makes an
 * InvocationContext (and, for HTTP, its HttpRequest), calls the handler and converts its
 * return value, but each invocation costs it six WeakMap entries (which survive scavenges,
 * see HandlerLog), three async frames and its binding options rebuilt from the metadata:
 * an activity took 18-22 µs of CPU through the model and takes 7-8 µs here (in process,
 * 64 in flight; docs/durable.md, "Through the embedded host"). The handler gets the same
 * arguments: its trigger value (for HTTP an instance of the model's own HttpRequest, built
 * as the model builds it), and an instance of the model's own InvocationContext class
 * built through its public constructor with what the model would pass, its extra inputs
 * converted as the model converts them (test/unit/host/directInvocation.test.ts compares
 * the two paths). An HTTP response the host does not convert itself (wire/httpData.ts
 * `plainHttpResponse`) is converted by the model's getResponse.
 */

/** The constructor of `@azure/functions`' InvocationContext (its `InvocationContextInit`). */
type ContextClass = new (init: {
  invocationId: string;
  functionName: string;
  logHandler: (this: unknown, level: RpcLogLevel, ...args: unknown[]) => void;
  retryContext: { retryCount: number; maxRetryCount: number } | undefined;
  traceContext: undefined;
  triggerMetadata: Record<string, unknown> | undefined;
  options: FunctionOptions;
}) => { extraInputs: { set(name: string, value: unknown): void } };

/** A binding as the model shows it in `context.options` (`fromRpcBinding`: its fields, then `type` and `name`). */
type BindingOptions = RpcBindingInfo & { name: string; type: string };

interface FunctionOptions {
  trigger: BindingOptions;
  return: BindingOptions | undefined;
  extraInputs: BindingOptions[];
  extraOutputs: never[];
}

const MODEL_NAME = '@azure/functions';
const MODEL_MAJOR = '4.';
/** The triggers whose data the model only parses (no HTTP request, timer camel-casing, MCP context). */
const DURABLE_TRIGGERS = /^(?:activity|orchestration|entity)Trigger$/i;
const isTrigger = (type: string | null | undefined): boolean => !!type && /trigger$/i.test(type);

/** The model's InvocationContext class, learnt from a context it made (the first invocation
 * of any function goes through the model). */
const contextClasses = new WeakMap<ProgrammingModel, ContextClass>();

export function learnContextClass(model: ProgrammingModel, context: unknown): void {
  if (contextClasses.has(model) || model.name !== MODEL_NAME || !model.version.startsWith(MODEL_MAJOR)) return;
  const ctor = (context as { constructor?: unknown } | null)?.constructor;
  if (typeof ctor === 'function' && ctor.name === 'InvocationContext') contextClasses.set(model, ctor as ContextClass);
}

/** How a function's invocations go directly: its binding options as the model gives them in
 * `context.options` (`fromRpcBindings`), copied for each invocation. */
interface Plan {
  readonly http: boolean;
  readonly options: FunctionOptions;
}

const plans = new WeakMap<RegisteredFunction, Plan | null>();

/** The function's plan, or null when its invocations go through the model: a durable
 * trigger with other bindings, an HTTP trigger with outputs other than `$return`, any
 * other trigger. */
function planOf(fn: RegisteredFunction): Plan | null {
  let plan = plans.get(fn);
  if (plan === undefined) {
    plan = makePlan(fn);
    plans.set(fn, plan);
  }
  return plan;
}

function makePlan(fn: RegisteredFunction): Plan | null {
  const bindings = fn.metadata.bindings ?? {};
  const info = bindings[fn.trigger.name];
  if (info === undefined) return null;
  const trigger = { ...info, type: fn.trigger.type, name: fn.trigger.name };
  if (DURABLE_TRIGGERS.test(fn.trigger.type)) {
    // Only a lone trigger: extra bindings are resolved and converted by the model.
    return Object.keys(bindings).length === 1 ? { http: false, options: { trigger, return: undefined, extraInputs: [], extraOutputs: [] } } : null;
  }
  if (fn.trigger.type.toLowerCase() !== 'httptrigger') return null;
  let ret: BindingOptions | undefined;
  const extraInputs: BindingOptions[] = [];
  for (const [name, binding] of Object.entries(bindings)) {
    const type = binding.type;
    if (typeof type !== 'string') return null;
    if (isTrigger(type)) {
      if (name !== fn.trigger.name) return null;
    } else if (name === RETURN_BINDING && binding.direction === 'out' && type.toLowerCase() === 'http') {
      ret = { ...binding, type, name };
    } else if (binding.direction === 'in') {
      extraInputs.push({ ...binding, type, name });
    } else {
      // Other outputs are written from the model's getResponse.
      return null;
    }
  }
  return ret === undefined ? null : { http: true, options: { trigger, return: ret, extraInputs, extraOutputs: [] } };
}

/** A fresh copy of the plan's options: the handler may change what it is given. */
const optionsFor = ({ options: o }: Plan): FunctionOptions => ({
  trigger: { ...o.trigger },
  return: o.return && { ...o.return },
  extraInputs: o.extraInputs.map((b) => ({ ...b })),
  extraOutputs: [],
});

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
 * model: another model, a trigger or data the model treats specially, an HTTP invocation
 * without a `convertReturn` (a streamed request: the model waits for it on its proxy), or
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
  const plan = planOf(fn);
  if (plan === null) return undefined;
  const extras = extraInputs === undefined ? [] : Object.entries(extraInputs);
  if (extras.length > 0 && (!plan.http || extras.some(([name, data]) => !plan.options.extraInputs.some((b) => b.name === name) || !convertible(data)))) {
    return undefined;
  }
  let value: unknown;
  let triggerMetadata: Record<string, unknown> | undefined;
  const inputs: [string, unknown][] = [];
  try {
    if (plan.http) {
      const Request = requestClassOf(deps.programmingModel);
      const http = input.trigger.http;
      if (Request === undefined || !http || Object.keys(input.trigger).length !== 1 || input.convertReturn === undefined) return undefined;
      // `fromRpcTypedData`; the model shows no trigger metadata for HTTP. The trigger first, then the extra inputs, as getArguments.
      value = new Request(deferredInit(http));
      // push, not map: the loop below sees this array and the empty one of other invocations
      // alike (map's result is HOLEY once TurboFan inlines it: a "wrong map" deopt here).
      for (const [name, data] of extras) inputs.push([name, fromTypedData(data)]);
    } else {
      value = fromTypedData(input.trigger);
      triggerMetadata = metadataOf(input.triggerMetadata);
      if (value === UNSUPPORTED || triggerMetadata === undefined) return undefined;
    }
  } catch (err) {
    // Data that is not JSON (or a request undici refuses) fails the invocation, as it fails the model's getArguments.
    return Promise.reject(err as Error);
  }
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
    options: optionsFor(plan),
  });
  for (const [name, v] of inputs) context.extraInputs.set(name, v);
  return run(deps, fn, log, value, context, input, invocationId, plan.http);
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
  deps: InvokeDeps,
  fn: RegisteredFunction,
  log: HandlerLog,
  value: unknown,
  context: object,
  input: InvocationInput,
  invocationId: string,
  http: boolean,
): Promise<InvocationResult> {
  log.state = 'invocation';
  let result: unknown;
  try {
    result = await fn.callback(value, context);
  } finally {
    log.state = undefined;
    log.done = true;
    input.release?.(value, context);
  }
  input.inspectResult?.(result);
  if (!http) return { invocationId, returnValue: toTypedData(result), outputs: NO_OUTPUTS };
  const converted = input.convertReturn?.(result) ?? NOT_PLAIN;
  if (converted !== NOT_PLAIN) return { invocationId, returnValue: converted, outputs: NO_OUTPUTS };
  return { invocationId, returnValue: await modelResponse(deps, fn, invocationId, context, result), outputs: NO_OUTPUTS };
}

/** The `$return` binding's typed data as the model's getResponse makes it (toRpcHttp), for a
 * response the host does not convert itself; the model reads only the function's bindings
 * and the invocation id for it. */
async function modelResponse(
  deps: InvokeDeps,
  fn: RegisteredFunction,
  invocationId: string,
  context: object,
  result: unknown,
): Promise<RpcTypedData | null | undefined> {
  const coreCtx = new CoreContext(deps, fn, invocationId, { invocationId, functionId: fn.id, inputData: [], triggerMetadata: {}, retryContext: null });
  const model = await deps.programmingModel.getInvocationModel(coreCtx);
  return (await model.getResponse(context, result)).returnValue;
}

const NO_OUTPUTS: ReadonlyMap<string, RpcTypedData> = new Map();
