import { DeferredRequest } from '../wire/deferredRequest';
import type { RpcTypedData } from '../wire/rpcTypes';
import type { ProgrammingModel } from './coreTypes';

/**
 * HTTP triggers handed to `@azure/functions` with their native request deferred
 * (wire/deferredRequest.ts). The model's HttpRequest takes the request it wraps from its
 * init's `nativeRequest` (as its streaming path does) instead of building one; whether a
 * model's HttpRequest does is learnt once, from the first HttpRequest it made, by
 * constructing one with a probe, so a model that does not gets its typed data as before.
 */
const honoursNative = new WeakMap<ProgrammingModel, boolean>();

type RequestClass = new (init: { method: string; url: string; nativeRequest: { url: string } }) => { query?: unknown };

export function learnRequestClass(model: ProgrammingModel, request: unknown): void {
  if (honoursNative.has(model)) return;
  const ctor = (request as { constructor?: unknown } | null)?.constructor;
  if (typeof ctor !== 'function' || ctor.name !== 'HttpRequest') return;
  let honours = false;
  try {
    const probe = new (ctor as RequestClass)({ method: 'POST', url: 'http://probe.invalid/', nativeRequest: { url: 'http://probe.invalid/?native=1' } });
    honours = probe.query instanceof URLSearchParams && probe.query.get('native') === '1';
  } catch {
    // A model that builds its own request from this init refused the probe: it keeps doing so.
  }
  honoursNative.set(model, honours);
}

/** The trigger with its request deferred, or as it is (not HTTP, not deferrable, or a model not known to take it). */
export function withDeferredRequest(model: ProgrammingModel, trigger: RpcTypedData): RpcTypedData {
  const http = trigger.http;
  if (!http || honoursNative.get(model) !== true) return trigger;
  const nativeRequest = DeferredRequest.of(http);
  return nativeRequest === undefined ? trigger : { http: { ...http, nativeRequest } as typeof http };
}
