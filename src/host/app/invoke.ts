import { randomUUID } from 'node:crypto';
import type { Logger } from '../../observability/logger';
import type { RpcInvocationRequest, RpcLogCategory, RpcLogLevel, RpcTypedData } from '../wire/rpcTypes';
import type { CoreInvocationContext, FunctionCallback, HookData, InvocationState, ProgrammingModel } from './coreTypes';
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
 * Runs one invocation through the programming model exactly as the worker's
 * InvocationHandler does: getInvocationModel -> getArguments -> preInvocation hooks ->
 * invokeFunction -> postInvocation hooks -> getResponse. Throws what the function threw.
 */
export async function invokeFunction(deps: InvokeDeps, fn: RegisteredFunction, input: InvocationInput): Promise<InvocationResult> {
  const invocationId = input.invocationId ?? randomUUID();
  const log = deps.logger.child({ functionName: fn.name, invocationId });
  const request: RpcInvocationRequest = {
    invocationId,
    functionId: fn.id,
    inputData: [{ name: fn.trigger.name, data: input.trigger }, ...Object.entries(input.inputs ?? {}).map(([name, data]) => ({ name, data }))],
    triggerMetadata: { ...(input.triggerMetadata ?? {}) },
    retryContext: input.retryContext ?? null,
  };
  let invocationContext: unknown;
  const coreCtx: CoreInvocationContext & { state?: InvocationState } = {
    invocationId,
    request,
    metadata: fn.metadata,
    log: (level, category, message) => {
      if (category === 'user' && deps.hooks.has('log')) {
        const hookCtx = deps.hooks.context({}, { category, level, message }, invocationContext);
        deps.hooks.runSync('log', hookCtx);
        writeLog(log, hookCtx.level, category, hookCtx.message);
      } else {
        writeLog(log, level, category, message);
      }
    },
  };

  const model = await deps.programmingModel.getInvocationModel(coreCtx);
  const { context, inputs } = await model.getArguments();
  invocationContext = context;
  const hookData: HookData = {};

  const pre = deps.hooks.context(hookData, { inputs, functionCallback: fn.callback as FunctionCallback }, context);
  await runInState(coreCtx, 'preInvocationHooks', () => deps.hooks.run('preInvocation', pre));

  const post = deps.hooks.context(hookData, { inputs: pre.inputs, result: null as unknown, error: null as unknown }, context);
  try {
    post.result = await runInState(coreCtx, 'invocation', () => model.invokeFunction(context, pre.inputs, pre.functionCallback));
  } catch (err) {
    post.error = err;
  }
  await runInState(coreCtx, 'postInvocationHooks', () => deps.hooks.run('postInvocation', post));
  if (post.error !== null && post.error !== undefined) throw post.error;

  input.inspectResult?.(post.result);
  const response = await model.getResponse(context, post.result);
  const outputs = new Map<string, RpcTypedData>();
  for (const binding of response.outputData ?? []) {
    if (binding.name && binding.name !== RETURN_BINDING && binding.data) outputs.set(binding.name, binding.data);
  }
  return { invocationId, returnValue: response.returnValue, outputs };
}

async function runInState<T>(coreCtx: { state?: InvocationState }, state: InvocationState, run: () => Promise<T>): Promise<T> {
  coreCtx.state = state;
  try {
    return await run();
  } finally {
    coreCtx.state = undefined;
  }
}
