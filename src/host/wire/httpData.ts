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
  const cookies = (http.cookies ?? []).map(toSetCookie);
  if (cookies.length > 0) headers['set-cookie'] = cookies;
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
