import { randomUUID } from 'node:crypto';
import type { Logger } from '../../observability/logger';
import type { RpcFunctionMetadata, RpcInvocationRequest, RpcLogCategory, RpcLogLevel, RpcParameterBinding, RpcTypedData } from '../wire/rpcTypes';
import type { CoreInvocationContext, HookData, InvocationState, ProgrammingModel } from './coreTypes';
import type { HookRegistry } from './hooks';
import { RETURN_BINDING, type RegisteredFunction } from './registry';

/** What a trigger hands to a function: the trigger's payload, its metadata (`dequeueCount`,
 * ...), and the values of extra input bindings by binding name. */
export interface InvocationInput {
  readonly trigger: RpcTypedData;
  readonly triggerMetadata?: Readonly<Record<string, RpcTypedData>>;
  readonly inputs?: Readonly<Record<string, RpcTypedData>>;
  readonly invocationId?: string;
  readonly retryContext?: { retryCount: number; maxRetryCount: number };
  /**
   * Sees the handler's return value before the programming model serialises it (the
   * durable extension numbers the SDK's action objects there, so identity survives JSON).
   */
  readonly inspectResult?: (result: unknown) => void;
}

export interface InvocationResult {
  readonly invocationId: string;
  /** The `$return` binding's value (or, for non-HTTP triggers, the handler's return value). */
  readonly returnValue: RpcTypedData | null | undefined;
  /** Values set on output bindings other than `$return`, by binding name. */
  readonly outputs: ReadonlyMap<string, RpcTypedData>;
}

export interface InvokeDeps {
  readonly programmingModel: ProgrammingModel;
  readonly hooks: HookRegistry;
  readonly logger: Logger;
}

const PINO_LEVEL: Record<RpcLogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | undefined> = {
  trace: 'trace',
  debug: 'debug',
  information: 'info',
  warning: 'warn',
  error: 'error',
  critical: 'fatal',
  none: undefined,
};

export function writeLog(logger: Logger, level: RpcLogLevel, category: RpcLogCategory, message: string): void {
  const pinoLevel = PINO_LEVEL[level];
  if (pinoLevel !== undefined) logger[pinoLevel]({ category }, message);
}

/**
 * The core context the programming model is given: a class, not an object literal with a
 * `log` closure, so an invocation allocates no closure (and its scope) for it. The model
 * keeps this object in a WeakMap entry until the next full GC, so it holds little.
 */
class CoreContext implements CoreInvocationContext {
  state?: InvocationState;
  /** The model's context for the function, once made (what log hooks are shown). */
  invocationContext: unknown;
  /** Most invocations write no log line: the child logger (its bindings serialised and
   * redacted) is made for the first one. */
  #log: Logger | undefined;
  readonly metadata: RpcFunctionMetadata;

  constructor(
    private readonly deps: InvokeDeps,
    private readonly fn: RegisteredFunction,
    readonly invocationId: string,
    readonly request: RpcInvocationRequest,
  ) {
    this.metadata = fn.metadata;
  }

  log(level: RpcLogLevel, category: RpcLogCategory, message: string): void {
    const { deps } = this;
    let line = { level, message };
    if (category === 'user' && deps.hooks.has('log')) {
      const hookCtx = deps.hooks.context({}, { category, level, message }, this.invocationContext);
      deps.hooks.runSync('log', hookCtx);
      line = { level: hookCtx.level, message: hookCtx.message };
    }
    // A line below the host's level (e.g. an API error answer at info, under LOG_LEVEL=warn)
    // makes no child logger (one per 409 answer was measurable in the lease race).
    const pinoLevel = PINO_LEVEL[line.level];
    if (pinoLevel === undefined || !deps.logger.isLevelEnabled(pinoLevel)) return;
    this.#log ??= deps.logger.child({ functionName: this.fn.name, invocationId: this.invocationId });
    writeLog(this.#log, line.level, category, line.message);
  }
}

/**
 * Runs one invocation through the programming model exactly as the worker's
 * InvocationHandler does: getInvocationModel -> getArguments -> preInvocation hooks ->
 * invokeFunction -> postInvocation hooks -> getResponse. Throws what the function threw.
 */
export async function invokeFunction(
  deps: InvokeDeps,
  fn: RegisteredFunction,
  input: InvocationInput,
  invocationId = input.invocationId ?? randomUUID(),
  /** The extra inputs' values, when the caller resolved more than `input` has. */
  extraInputs = input.inputs,
): Promise<InvocationResult> {
  const inputData: RpcParameterBinding[] = [{ name: fn.trigger.name, data: input.trigger }];
  if (extraInputs !== undefined) for (const [name, data] of Object.entries(extraInputs)) inputData.push({ name, data });
  const request: RpcInvocationRequest = {
    invocationId,
    functionId: fn.id,
    inputData,
    triggerMetadata: input.triggerMetadata ?? {},
    retryContext: input.retryContext ?? null,
  };
  const coreCtx = new CoreContext(deps, fn, invocationId, request);

  try {
    // @azure/functions answers at once; awaiting a plain value would still cost a promise and a turn.
    const pending = deps.programmingModel.getInvocationModel(coreCtx);
    const model = isPromiseLike(pending) ? await pending : pending;
    const { context, inputs } = await model.getArguments();
    coreCtx.invocationContext = context;
    const hookData: HookData = {};

    // Hook contexts only when hooks are registered: they are what the hooks see, nothing else.
    let args = inputs;
    let callback = fn.callback;
    if (deps.hooks.has('preInvocation')) {
      const pre = deps.hooks.context(hookData, { inputs, functionCallback: callback }, context);
      await runInState(coreCtx, 'preInvocationHooks', () => deps.hooks.run('preInvocation', pre));
      args = pre.inputs;
      callback = pre.functionCallback;
    }

    let result: unknown = null;
    let error: unknown = null;
    coreCtx.state = 'invocation';
    try {
      result = await model.invokeFunction(context, args, callback);
    } catch (err) {
      error = err;
    } finally {
      coreCtx.state = undefined;
    }
    if (deps.hooks.has('postInvocation')) {
      const post = deps.hooks.context(hookData, { inputs: args, result, error }, context);
      await runInState(coreCtx, 'postInvocationHooks', () => deps.hooks.run('postInvocation', post));
      result = post.result;
      error = post.error;
    }
    if (error !== null && error !== undefined) throw error;

    input.inspectResult?.(result);
    const response = await model.getResponse(context, result);
    let outputs: Map<string, RpcTypedData> | undefined;
    for (const binding of response.outputData ?? []) {
      if (binding.name && binding.name !== RETURN_BINDING && binding.data) (outputs ??= new Map()).set(binding.name, binding.data);
    }
    return { invocationId, returnValue: response.returnValue, outputs: outputs ?? NO_OUTPUTS };
  } finally {
    // The programming model keeps an invocation's state (this context among it) in WeakMaps,
    // whose entries V8 frees only in a full GC; until then every young-generation GC copies
    // what they reach. The trigger payload (an orchestrator's whole history) need not be in it.
    request.inputData = null;
    request.triggerMetadata = null;
  }
}

const isPromiseLike = <T>(value: T | PromiseLike<T>): value is PromiseLike<T> => typeof (value as { then?: unknown } | null)?.then === 'function';

const NO_OUTPUTS: ReadonlyMap<string, RpcTypedData> = new Map();

async function runInState<T>(coreCtx: { state?: InvocationState }, state: InvocationState, run: () => Promise<T>): Promise<T> {
  coreCtx.state = state;
  try {
    return await run();
  } finally {
    coreCtx.state = undefined;
  }
}
