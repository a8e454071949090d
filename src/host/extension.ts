import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Logger } from '../observability/logger';
import type { InvocationInput, InvocationResult } from './app/invoke';
import type { BindingSpec, RegisteredFunction } from './app/registry';
import type { HostJson } from './config/hostJson';
import type { QueueClient } from './queue/queueClient';
import type { RpcTypedData } from './wire/rpcTypes';

export type { BindingSpec, RegisteredFunction } from './app/registry';
export type { InvocationInput, InvocationResult } from './app/invoke';
export type { RpcTypedData, RpcHttpData } from './wire/rpcTypes';
export type { QueueClient, QueueMessageInit } from './queue/queueClient';
export { metadataString } from './wire/metadataString';

/**
 * How trigger and binding kinds plug into the embedded host without touching its core.
 *
 * The host loads the app (every `app.*` registration arrives as a RegisteredFunction with
 * its bindings), listens on HTTP, then starts each extension with the functions whose
 * trigger type it claims. An extension turns its events into invocations with
 * `ctx.invoke(fn, { trigger: <TypedData>, triggerMetadata?, inputs? })`; the host runs
 * them through the real programming model (`@azure/functions`), resolves extra inputs of
 * the types an extension claims in `inputBindingTypes` (via its `resolveInput`), and after
 * a successful invocation hands each output value to the extension that claims its type in
 * `outputBindingTypes` (via `writeOutput`). The trigger's own outputs (`$return` of an HTTP
 * function, an orchestrator's return value) come back in the InvocationResult.
 *
 * Built-in extensions: `http` (httpTrigger, http output), `timer` (timerTrigger), `queue`
 * (queueTrigger, queue output). The durable engine (src/durable/) is one more:
 *
 * ```ts
 * const durable: HostExtension = {
 *   name: 'durable',
 *   triggerTypes: ['orchestrationTrigger', 'activityTrigger', 'entityTrigger'],
 *   inputBindingTypes: ['durableClient'],
 *   async start(ctx, functions) {
 *     ctx.mountHttp('/runtime/webhooks/durabletask', (req, res) => api.handle(req, res));
 *     // engine loop: const r = await ctx.invoke(orchestratorFn, { trigger: { json: JSON.stringify(state) } });
 *     //              r.returnValue holds the orchestrator's JSON result
 *   },
 *   resolveInput: (binding, fn) => ({ json: JSON.stringify(clientConfig(ctx.baseUrl)) }),
 *   async stop() {},          // stop dispatching new work
 *   async close() {},         // after in-flight invocations ended: close SQLite
 * };
 * ```
 * and is passed to `startHost({ extensions: [durable] })` (src/host/host.ts).
 *
 * Binding types are compared case-insensitively. A function with a trigger, input or output
 * type no extension claims is reported at start and not run (as `func start` does).
 */
export interface HostExtension {
  /** Short name for logs, e.g. `durable`. */
  readonly name: string;
  /** Trigger binding types this extension drives, e.g. `['timerTrigger']`. */
  readonly triggerTypes: readonly string[];
  /** Extra input binding types it produces values for, e.g. `['durableClient']`. */
  readonly inputBindingTypes?: readonly string[];
  /** Output binding types it consumes, e.g. `['queue']`. */
  readonly outputBindingTypes?: readonly string[];

  /** Called once, after the app loaded, appStart hooks ran and HTTP listens; `functions`
   * are the registered functions whose trigger type this extension claims. Throwing stops
   * the host start with that message. */
  start(ctx: HostContext, functions: readonly RegisteredFunction[]): Promise<void> | void;
  /** Shutdown, phase 1: stop starting new invocations (stop polling, clear timers). The
   * host then waits for invocations in flight (bounded by a timeout). */
  stop(): Promise<void> | void;
  /** Shutdown, phase 2, after in-flight invocations ended and appTerminate hooks ran:
   * release resources (close databases, files). */
  close?(): Promise<void> | void;

  /** In a quiet moment (nothing in flight for a while): give space freed in the
   * extension's databases back and empty their WALs. Returns what it did, for the log. */
  compact?(): unknown;

  /** The value of input binding `binding` of `fn` for one invocation. */
  resolveInput?(binding: BindingSpec, fn: RegisteredFunction, invocation: { invocationId: string }): Promise<RpcTypedData> | RpcTypedData;
  /** Delivers the value the function set on output binding `binding` (only after the
   * function succeeded). Throwing fails the invocation. */
  writeOutput?(binding: BindingSpec, value: RpcTypedData, fn: RegisteredFunction, invocation: { invocationId: string }): Promise<void> | void;
}

/** Handles every request under a mounted path prefix (outside the app's `/api`). The host
 * counts it as in-flight work for graceful shutdown and turns a thrown error into a JSON 500. */
export type HttpMountHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void;

/** What the host gives every extension. */
export interface HostContext {
  /** Absolute directory of the function app. */
  readonly appDir: string;
  /** Absolute data directory (`LEDGERFLOW_DATA_DIR`); one host per data directory. */
  readonly dataDir: string;
  /** host.json: `extensions` keeps sections the host does not parse (durableTask, ...). */
  readonly hostJson: HostJson;
  readonly logger: Logger;
  /** e.g. `http://127.0.0.1:7071`: the port is bound when extensions start, but requests are
   * answered 503 `starting` until every extension has started. */
  readonly baseUrl: string;
  /** Aborted when shutdown begins. */
  readonly shutdownSignal: AbortSignal;
  /** The app's queues (SQLite in the data dir), for enqueueing from host code. */
  readonly queues: QueueClient;
  /** The worker's HTTP proxy when the app streams HTTP (see loadApp), else undefined. */
  readonly workerHttpProxy: HttpServer | undefined;

  /** Every registered function that the host can run. */
  functions(): readonly RegisteredFunction[];
  /** A function by name (case-insensitive). */
  getFunction(name: string): RegisteredFunction | undefined;
  /** Runs one invocation; throws what the function threw. Counts as in-flight work. */
  invoke(fn: RegisteredFunction, input: InvocationInput): Promise<InvocationResult>;
  /** Serves requests whose path starts with `pathPrefix` (e.g. `/runtime/webhooks/durabletask`).
   * The longest matching prefix wins; the app's routes are mounted at `/<routePrefix>`. */
  mountHttp(pathPrefix: string, handler: HttpMountHandler): void;
  /** Registers work not started by invoke() (e.g. an engine's step) for graceful shutdown. */
  track<T>(work: Promise<T>): Promise<T>;
}
