import type { IncomingHttpHeaders } from 'node:http';
import type { RpcHttpCookie, RpcHttpData, RpcTypedData } from './rpcTypes';

/** Request headers App Service authentication sets on Azure; a client must not be able to
 * send them to the embedded host and pose as an authenticated principal. */
const PLATFORM_IDENTITY_HEADER = /^x-ms-client-principal/i;

export interface IncomingHttp {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly params: Record<string, string>;
}

/** The request headers a function sees: repeated ones joined, the platform's identity
 * headers dropped. */
export function forwardableHeaders(incoming: IncomingHttpHeaders): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined || PLATFORM_IDENTITY_HEADER.test(name)) continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** node:http request -> RpcHttpData, the trigger payload the programming model turns into
 * its HttpRequest. The query is left to the URL so repeated keys survive. */
export function toRpcHttpRequest(req: IncomingHttp): RpcTypedData {
  const headers = forwardableHeaders(req.headers);
  const http: RpcHttpData = { method: req.method, url: req.url, headers, params: req.params };
  if (req.body.length > 0) http.body = { bytes: req.body };
  return { http };
}

export interface OutgoingHttp {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly body: Buffer;
}

/** The programming model's response (RpcTypedData with `http`, or undefined when the
 * function returned nothing) -> status, headers (with Set-Cookie) and body bytes. */
export function fromRpcHttpResponse(data: RpcTypedData | null | undefined): OutgoingHttp {
  const http = data?.http;
  if (!http) return { status: 204, headers: {}, body: Buffer.alloc(0) };
  const status = Number(http.statusCode ?? 200);
  const headers: Record<string, string | string[]> = { ...(http.headers ?? {}) };
  // The cookies' length is read from the response's own array, not from a map of it (see
  // httpTrigger.ts: map's result changes its array map once TurboFan inlines it).
  const cookies = http.cookies ?? [];
  if (cookies.length > 0) headers['set-cookie'] = cookies.map(toSetCookie);
  return { status: Number.isInteger(status) && status >= 100 && status <= 999 ? status : 500, headers, body: typedDataToBuffer(http.body) };
}

/** Bytes of a TypedData body (bytes, string, or JSON). */
export function typedDataToBuffer(data: RpcTypedData | null | undefined): Buffer {
  if (!data) return Buffer.alloc(0);
  if (data.bytes) return Buffer.from(data.bytes.buffer, data.bytes.byteOffset, data.bytes.byteLength);
  if (data.stream) return Buffer.from(data.stream.buffer, data.stream.byteOffset, data.stream.byteLength);
  if (typeof data.string === 'string') return Buffer.from(data.string, 'utf8');
  if (typeof data.json === 'string') return Buffer.from(data.json, 'utf8');
  if (typeof data.int === 'number') return Buffer.from(String(data.int));
  if (typeof data.double === 'number') return Buffer.from(String(data.double));
  return Buffer.alloc(0);
}

const SAME_SITE: Record<string, string | undefined> = { lax: 'Lax', strict: 'Strict', explicitNone: 'None', none: undefined };

/**
 * RpcHttpCookie -> a Set-Cookie header value (RFC 6265 attributes). Hand-written: the npm
 * `cookie` package is only a transitive dependency here, without types, and this is the
 * whole of it.
 */
export function toSetCookie(cookie: RpcHttpCookie): string {
  const parts = [`${cookie.name ?? ''}=${encodeURIComponent(cookie.value ?? '')}`];
  if (cookie.domain?.value) parts.push(`Domain=${cookie.domain.value}`);
  if (cookie.path?.value) parts.push(`Path=${cookie.path.value}`);
  const expires = cookie.expires?.value;
  if (expires && expires.seconds !== null && expires.seconds !== undefined) {
    parts.push(`Expires=${new Date(Number(expires.seconds) * 1000 + Math.floor((expires.nanos ?? 0) / 1e6)).toUTCString()}`);
  }
  const maxAge = cookie.maxAge?.value;
  if (typeof maxAge === 'number') parts.push(`Max-Age=${Math.floor(maxAge)}`);
  if (cookie.secure?.value) parts.push('Secure');
  if (cookie.httpOnly?.value) parts.push('HttpOnly');
  const sameSite = SAME_SITE[cookie.sameSite ?? 'none'];
  if (sameSite) parts.push(`SameSite=${sameSite}`);
  return parts.join('; ');
}

/** What `plainHttpResponse` leaves to the programming model. */
export const NOT_PLAIN: unique symbol = Symbol('not a plain HTTP response');

const PLAIN_KEYS = new Set(['status', 'headers', 'body', 'jsonBody']);
/** A header name (RFC 9110 token). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A header value of visible ASCII, spaces and tabs, not starting or ending with either. */
const PLAIN_VALUE = /^(?:[\x21-\x7e](?:[\t\x20-\x7e]*[\x21-\x7e])?)?$/;

/**
 * `@azure/functions`' toRpcHttp for a plain response init (what most handlers return):
 * the model makes an HttpResponse of it, which wraps an undici `Response` whose body it
 * then reads back through a web stream (about a third of what an HTTP call costs the host
 * in that model). The same typed data comes out here: status (200 when not given), headers
 * lower-cased and in order of name, `content-type` `application/json` for a `jsonBody` and
 * `text/plain;charset=UTF-8` for a string `body` unless given, the body's UTF-8 bytes, no
 * cookies, no content negotiation. Anything else (an HttpResponse, cookies, other body
 * types, statuses that are refused or carry no body, header values that undici would
 * normalise, refuse or join) is NOT_PLAIN, for the model to convert.
 */
export function plainHttpResponse(value: unknown): RpcTypedData | null | undefined | typeof NOT_PLAIN {
  if (value === null || value === undefined) return value;
  if (typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return NOT_PLAIN;
  const init = value as Record<string, unknown>;
  if (Object.keys(init).some((k) => !PLAIN_KEYS.has(k))) return NOT_PLAIN;
  const { status, jsonBody, body } = init;
  if (status !== undefined && !(typeof status === 'number' && Number.isInteger(status) && status >= 200 && status <= 599 && !NULL_BODY_STATUS.has(status))) {
    return NOT_PLAIN;
  }
  const headers = plainHeaders(init['headers']);
  if (headers === undefined) return NOT_PLAIN;
  let text: string | undefined;
  if (jsonBody !== undefined && jsonBody !== null) {
    if (typeof jsonBody === 'function' || typeof jsonBody === 'symbol') return NOT_PLAIN;
    text = JSON.stringify(jsonBody) as string | undefined;
    headers['content-type'] ??= 'application/json';
  } else if (typeof body === 'string') {
    text = body;
    headers['content-type'] ??= 'text/plain;charset=UTF-8';
  } else if (body !== undefined && body !== null) {
    return NOT_PLAIN;
  }
  const sorted: Record<string, string> = {};
  for (const name of Object.keys(headers).sort()) sorted[name] = headers[name] as string;
  return {
    http: {
      statusCode: String(status ?? 200),
      headers: sorted,
      cookies: [],
      enableContentNegotiation: false,
      body: { bytes: Buffer.from(text ?? '', 'utf8') },
    },
  };
}

/** undici's "null body status" answers, which the model sends without the body. */
const NULL_BODY_STATUS = new Set([204, 205, 304]);

/** Headers by lower-case name, or undefined when `Headers` would not take them as they are. */
function plainHeaders(headers: unknown): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  if (headers === undefined) return out;
  if (typeof headers !== 'object' || headers === null || Object.getPrototypeOf(headers) !== Object.prototype) return undefined;
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (typeof value !== 'string' || !TOKEN.test(name) || !PLAIN_VALUE.test(value) || lower === 'set-cookie' || lower in out) return undefined;
    out[lower] = value;
  }
  return out;
}
