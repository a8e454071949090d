import { randomUUID } from 'node:crypto';
import type { Logger } from '../observability/logger';
import { invokeFunction, type InvocationInput, type InvocationResult, type InvokeDeps } from './app/invoke';
import { RETURN_BINDING, type BindingSpec, type RegisteredFunction } from './app/registry';
import type { HostExtension } from './extension';

type Pick = (e: HostExtension) => readonly string[] | undefined;

const byTrigger: Pick = (e) => e.triggerTypes;
const byInput: Pick = (e) => e.inputBindingTypes;
const byOutput: Pick = (e) => e.outputBindingTypes;

/** The extension that claims a binding type (case-insensitive), if any. */
function claimant(extensions: readonly HostExtension[], pick: Pick, type: string): HostExtension | undefined {
  const wanted = type.toLowerCase();
  return extensions.find((e) => (pick(e) ?? []).some((t) => t.toLowerCase() === wanted));
}

/** Why a function cannot run with these extensions, or undefined when every binding has one. */
export function unsupportedBinding(fn: RegisteredFunction, extensions: readonly HostExtension[]): string | undefined {
  if (!claimant(extensions, byTrigger, fn.trigger.type)) return `trigger type "${fn.trigger.type}"`;
  const input = fn.inputs.find((b) => !claimant(extensions, byInput, b.type));
  if (input) return `input binding type "${input.type}"`;
  const output = fn.outputs.find((b) => !claimant(extensions, byOutput, b.type));
  if (output) return `output binding type "${output.type}"`;
  return undefined;
}

/** A function that will not run (entirely) on the embedded host, and what that means. */
export interface UnsupportedFunction {
  functionName: string;
  /** e.g. `output binding type "blob"` */
  binding: string;
  /** What happens locally: never triggered, or each invocation fails with 501. */
  effect: string;
}

export function unsupportedFunctions(functions: readonly RegisteredFunction[], extensions: readonly HostExtension[]): UnsupportedFunction[] {
  return functions.flatMap((fn) => {
    const binding = unsupportedBinding(fn, extensions);
    if (binding === undefined) return [];
    const triggered = claimant(extensions, byTrigger, fn.trigger.type) !== undefined;
    return [{ functionName: fn.name, binding, effect: triggered ? 'each invocation fails (HTTP 501)' : 'never triggered' }];
  });
}

/** The start-up table of what will not run locally. */
export function formatUnsupportedTable(rows: readonly UnsupportedFunction[]): string {
  const head = { functionName: 'function', binding: 'unsupported binding', effect: 'locally' };
  const all = [head, ...rows];
  const w1 = Math.max(...all.map((r) => r.functionName.length));
  const w2 = Math.max(...all.map((r) => r.binding.length));
  const line = (r: UnsupportedFunction) => `  ${r.functionName.padEnd(w1)}  ${r.binding.padEnd(w2)}  ${r.effect}`;
  return [
    'These functions use bindings the embedded host has no extension for (they run on Azure):',
    line(head),
    ...rows.map(line),
    'Set LEDGERFLOW_STRICT_BINDINGS=true to refuse to start instead.',
  ].join('\n');
}

/** Invoking a function whose binding no extension handles (the host answers 501). */
export class UnsupportedBindingError extends Error {
  constructor(
    readonly functionName: string,
    readonly binding: string,
  ) {
    super(`function '${functionName}' uses ${binding}, which the embedded host does not support`);
    this.name = 'UnsupportedBindingError';
  }
}

/** The functions an extension drives: those whose trigger type it claims. */
export function functionsFor(ext: HostExtension, functions: readonly RegisteredFunction[]): RegisteredFunction[] {
  return functions.filter((fn) => claimant([ext], byTrigger, fn.trigger.type) !== undefined);
}

type ResolveInput = NonNullable<HostExtension['resolveInput']>;
type WriteOutput = NonNullable<HostExtension['writeOutput']>;

/** What an invocation of one function needs from the extensions, worked out once. */
interface BindingPlan {
  readonly unsupported: string | undefined;
  readonly inputs: readonly { binding: BindingSpec; resolve: ResolveInput }[];
  readonly outputs: readonly { binding: BindingSpec; write: WriteOutput }[];
}

function bindingPlan(fn: RegisteredFunction, extensions: readonly HostExtension[]): BindingPlan {
  return {
    unsupported: unsupportedBinding(fn, extensions),
    inputs: fn.inputs.flatMap((binding) => {
      const ext = claimant(extensions, byInput, binding.type);
      return ext?.resolveInput ? [{ binding, resolve: ext.resolveInput.bind(ext) }] : [];
    }),
    outputs: fn.outputs.flatMap((binding) => {
      const ext = claimant(extensions, byOutput, binding.type);
      return ext?.writeOutput ? [{ binding, write: ext.writeOutput.bind(ext) }] : [];
    }),
  };
}

/**
 * One invocation with its bindings: extra inputs resolved by the extensions that claim
 * their types, the function run through the programming model, then (only on success)
 * each output value handed to the extension that claims its type. Logs the outcome with
 * the invocation id, like the Functions host's "Executed ..." lines.
 */
export function createInvoker(extensions: readonly HostExtension[], deps: InvokeDeps, logger: Logger) {
  const plans = new WeakMap<RegisteredFunction, BindingPlan>();
  const planOf = (fn: RegisteredFunction): BindingPlan => {
    let plan = plans.get(fn);
    if (plan === undefined) plans.set(fn, (plan = bindingPlan(fn, extensions)));
    return plan;
  };
  const outcome = (fn: RegisteredFunction, invocationId: string, started: number, extra: object) => ({
    functionName: fn.name,
    invocationId,
    durationMs: Math.round(performance.now() - started),
    ...extra,
  });
  const failed = (fn: RegisteredFunction, invocationId: string, started: number, err: unknown): never => {
    logger.error(outcome(fn, invocationId, started, { err }), `Executed '${fn.name}' (Failed)`);
    throw err;
  };
  const succeeded = (fn: RegisteredFunction, invocationId: string, started: number): void => {
    if (logger.isLevelEnabled('debug')) logger.debug(outcome(fn, invocationId, started, {}), `Executed '${fn.name}' (Succeeded)`);
  };
  /** An invocation whose bindings the host resolves or writes, or cannot (an unsupported one fails here, logged as any failure). */
  const withBindings = async (
    fn: RegisteredFunction,
    plan: BindingPlan,
    input: InvocationInput,
    invocationId: string,
    started: number,
  ): Promise<InvocationResult> => {
    try {
      if (plan.unsupported !== undefined) throw new UnsupportedBindingError(fn.name, plan.unsupported);
      let inputs = input.inputs;
      for (const { binding, resolve } of plan.inputs) {
        if (inputs === undefined || !(binding.name in inputs)) inputs = { ...inputs, [binding.name]: await resolve(binding, fn, { invocationId }) };
      }
      const result = await invokeFunction(deps, fn, input, invocationId, inputs);
      for (const { binding, write } of plan.outputs) {
        const value = binding.name === RETURN_BINDING ? result.returnValue : result.outputs.get(binding.name);
        if (value) await write(binding, value, fn, { invocationId });
      }
      succeeded(fn, invocationId, started);
      return result;
    } catch (err) {
      return failed(fn, invocationId, started, err);
    }
  };
  return (fn: RegisteredFunction, input: InvocationInput): Promise<InvocationResult> => {
    const invocationId = input.invocationId ?? randomUUID();
    const started = performance.now();
    const plan = planOf(fn);
    if (plan.unsupported !== undefined || plan.inputs.length > 0 || plan.outputs.length > 0) return withBindings(fn, plan, input, invocationId, started);
    // Most invocations (activities, orchestrator episodes) have no bindings to resolve or
    // write: no async frame of their own around the programming model's.
    return invokeFunction(deps, fn, input, invocationId).then(
      (result) => {
        succeeded(fn, invocationId, started);
        return result;
      },
      (err: unknown) => failed(fn, invocationId, started, err),
    );
  };
}
