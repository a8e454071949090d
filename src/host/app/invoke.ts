import { randomUUID } from 'node:crypto';
import { NOT_PLAIN } from '../wire/httpData';
import type { RpcInvocationRequest, RpcParameterBinding, RpcTypedData } from '../wire/rpcTypes';
import { CoreContext } from './coreContext';
import type { HookData, InvocationState } from './coreTypes';
import { learnRequestClass, withDeferredRequest } from './deferredHttp';
import { invokeDirectly, learnContextClass } from './directInvocation';
import type { InvocationInput, InvocationResult, InvokeDeps } from './invocationTypes';
import { RETURN_BINDING, type RegisteredFunction } from './registry';

export type { InvocationInput, InvocationResult, InvokeDeps } from './invocationTypes';

/**
 * Runs one invocation as the worker's InvocationHandler does, through the programming
 * model (or, for the durable triggers, as the model would: directInvocation.ts). Throws
 * what the function threw.
 */
export function invokeFunction(
  deps: InvokeDeps,
  fn: RegisteredFunction,
  input: InvocationInput,
  invocationId = input.invocationId ?? randomUUID(),
  /** The extra inputs' values, when the caller resolved more than `input` has. */
  extraInputs = input.inputs,
): Promise<InvocationResult> {
  return invokeDirectly(deps, fn, input, invocationId, extraInputs) ?? viaModel(deps, fn, input, invocationId, extraInputs);
}

/** getInvocationModel -> getArguments -> preInvocation hooks -> invokeFunction ->
 * postInvocation hooks -> getResponse. */
async function viaModel(
  deps: InvokeDeps,
  fn: RegisteredFunction,
  input: InvocationInput,
  invocationId: string,
  extraInputs: InvocationInput['inputs'],
): Promise<InvocationResult> {
  const trigger = input.viaProxy === true ? input.trigger : withDeferredRequest(deps.programmingModel, input.trigger);
  const inputData: RpcParameterBinding[] = [{ name: fn.trigger.name, data: trigger }];
  if (extraInputs !== undefined) for (const [name, data] of Object.entries(extraInputs)) inputData.push({ name, data });
  const request: RpcInvocationRequest = {
    invocationId,
    functionId: fn.id,
    inputData,
    triggerMetadata: input.triggerMetadata ?? {},
    retryContext: input.retryContext ?? null,
  };
  const coreCtx = new CoreContext(deps, fn, invocationId, request);
  let handed: { trigger: unknown; context: unknown } | undefined;

  try {
    // @azure/functions answers at once; awaiting a plain value would still cost a promise and a turn.
    const pending = deps.programmingModel.getInvocationModel(coreCtx);
    const model = isPromiseLike(pending) ? await pending : pending;
    const { context, inputs } = await model.getArguments();
    handed = { trigger: inputs[0], context };
    coreCtx.invocationContext = context;
    learnContextClass(deps.programmingModel, context);
    if (input.trigger.http) learnRequestClass(deps.programmingModel, inputs[0]);
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
    // The model's getResponse would give the `$return` binding's conversion and nothing else.
    const converted = input.convertReturn !== undefined && onlyReturnOutput(fn) ? input.convertReturn(result) : NOT_PLAIN;
    if (converted !== NOT_PLAIN) return { invocationId, returnValue: converted, outputs: NO_OUTPUTS };
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
    if (handed !== undefined) input.release?.(handed.trigger, handed.context);
  }
}

const onlyReturnOutput = (fn: RegisteredFunction): boolean =>
  fn.outputs.length === 1 && fn.outputs[0]?.name === RETURN_BINDING && fn.outputs[0].direction === 'out';

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
