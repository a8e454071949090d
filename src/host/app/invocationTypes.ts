import type { Logger } from '../../observability/logger';
import type { NOT_PLAIN } from '../wire/httpData';
import type { RpcTypedData } from '../wire/rpcTypes';
import type { ProgrammingModel } from './coreTypes';
import type { HookRegistry } from './hooks';

/** What a trigger hands to a function: the trigger's payload, its metadata (`dequeueCount`,
 * ...), and the values of extra input bindings by binding name. */
export interface InvocationInput {
  readonly trigger: RpcTypedData;
  readonly triggerMetadata?: Readonly<Record<string, RpcTypedData>>;
  readonly inputs?: Readonly<Record<string, RpcTypedData>>;
  readonly invocationId?: string;
  readonly retryContext?: { retryCount: number; maxRetryCount: number };
  /**
   * The programming model takes this HTTP trigger's request from the worker's proxy (HTTP
   * streams), never from `trigger`: no deferred request is made for it, which would be
   * built and kept for nothing while the invocation runs.
   */
  readonly viaProxy?: boolean;
  /**
   * Sees the handler's return value before the programming model serialises it (the
   * durable extension numbers the SDK's action objects there, so identity survives JSON).
   */
  readonly inspectResult?: (result: unknown) => void;
  /**
   * Called once the handler (and the hooks after it) has settled, with the trigger value and
   * the context the handler was given: what the caller may drop from them (the durable
   * extension drops an orchestrator episode's history and SDK state, which the SDK keeps
   * reachable until a full GC: src/durable/triggerInput.ts).
   */
  readonly release?: (trigger: unknown, context: unknown) => void;
  /**
   * The `$return` binding's typed data for the handler's result, as the programming model
   * would make it, when the caller knows that conversion (the HTTP trigger, for a plain
   * response init); NOT_PLAIN leaves it to the model. Used only when `$return` is the
   * function's one output binding.
   */
  readonly convertReturn?: (result: unknown) => RpcTypedData | null | undefined | typeof NOT_PLAIN;
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
