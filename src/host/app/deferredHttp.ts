import { DeferredRequest } from '../wire/deferredRequest';
import type { RpcHttpData, RpcTypedData } from '../wire/rpcTypes';
import type { ProgrammingModel } from './coreTypes';

/**
 * HTTP triggers handed to `@azure/functions` with their native request deferred
 * (wire/deferredRequest.ts). The model's HttpRequest takes the request it wraps from its
 * init's `nativeRequest` (as its streaming path does) instead of building one; whether a
 * model's HttpRequest does is learnt once, from the first HttpRequest it made, by
 * constructing one with a probe, so a model that does not gets its typed data as before.
 */

/** `@azure/functions`' HttpRequest: `fromRpcTypedData` makes it as `new HttpRequest(data.http)`. */
export type RequestClass = new (init: RpcHttpData & { nativeRequest?: { url: string } }) => object;

/** The model's HttpRequest class when it takes a native request, null when it does not. */
const requestClasses = new WeakMap<ProgrammingModel, RequestClass | null>();

export function learnRequestClass(model: ProgrammingModel, request: unknown): void {
  if (requestClasses.has(model)) return;
  const ctor = (request as { constructor?: unknown } | null)?.constructor;
  if (typeof ctor !== 'function' || ctor.name !== 'HttpRequest') return;
  let honours = false;
  try {
    const probe = new (ctor as RequestClass)({ method: 'POST', url: 'http://probe.invalid/', nativeRequest: { url: 'http://probe.invalid/?native=1' } }) as {
      query?: unknown;
    };
    honours = probe.query instanceof URLSearchParams && probe.query.get('native') === '1';
  } catch {
    // A model that builds its own request from this init refused the probe: it keeps doing so.
  }
  requestClasses.set(model, honours ? (ctor as RequestClass) : null);
}

/** The model's HttpRequest class, once learnt, when it takes a deferred request. */
export const requestClassOf = (model: ProgrammingModel): RequestClass | undefined => requestClasses.get(model) ?? undefined;

/** The HttpRequest init with its request deferred, or as it is when undici could refuse it. */
export function deferredInit(http: RpcHttpData): RpcHttpData {
  const nativeRequest = DeferredRequest.of(http);
  return nativeRequest === undefined ? http : ({ ...http, nativeRequest } as RpcHttpData);
}

/** The trigger with its request deferred, or as it is (not HTTP, or a model not known to take it). */
export function withDeferredRequest(model: ProgrammingModel, trigger: RpcTypedData): RpcTypedData {
  const http = trigger.http;
  if (!http || requestClassOf(model) === undefined) return trigger;
  const init = deferredInit(http);
  return init === http ? trigger : { http: init };
}
