import type { Logger } from '../observability/logger';
import { invokeFunction, type InvocationInput, type InvocationResult, type InvokeDeps } from './app/invoke';
import { RETURN_BINDING, type RegisteredFunction } from './app/registry';
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

/** The functions an extension drives: those whose trigger type it claims. */
export function functionsFor(ext: HostExtension, functions: readonly RegisteredFunction[]): RegisteredFunction[] {
  return functions.filter((fn) => claimant([ext], byTrigger, fn.trigger.type) !== undefined);
}

/**
 * One invocation with its bindings: extra inputs resolved by the extensions that claim
 * their types, the function run through the programming model, then (only on success)
 * each output value handed to the extension that claims its type. Logs the outcome with
 * the invocation id, like the Functions host's "Executed ..." lines.
 */
export function createInvoker(extensions: readonly HostExtension[], deps: InvokeDeps, logger: Logger) {
  return async (fn: RegisteredFunction, input: InvocationInput): Promise<InvocationResult> => {
    const invocationId = input.invocationId ?? crypto.randomUUID();
    const started = performance.now();
    const outcome = (extra: object) => ({ functionName: fn.name, invocationId, durationMs: Math.round(performance.now() - started), ...extra });
    try {
      const inputs = { ...(input.inputs ?? {}) };
      for (const binding of fn.inputs) {
        if (binding.name in inputs) continue;
        const ext = claimant(extensions, byInput, binding.type);
        if (ext?.resolveInput) inputs[binding.name] = await ext.resolveInput(binding, fn, { invocationId });
      }
      const result = await invokeFunction(deps, fn, { ...input, invocationId, inputs });
      for (const binding of fn.outputs) {
        const ext = claimant(extensions, byOutput, binding.type);
        const value = binding.name === RETURN_BINDING ? result.returnValue : result.outputs.get(binding.name);
        if (ext?.writeOutput && value) await ext.writeOutput(binding, value, fn, { invocationId });
      }
      logger.debug(outcome({}), `Executed '${fn.name}' (Succeeded)`);
      return result;
    } catch (err) {
      logger.error(outcome({ err }), `Executed '${fn.name}' (Failed)`);
      throw err;
    }
  };
}
