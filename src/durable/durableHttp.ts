import { z } from 'zod';
import { once } from '../core/once';

/**
 * `callHttp` (the SDK's DurableHttpRequest), run by the engine as its built-in activity
 * `BuiltIn::HttpActivity`, like the extension's. With `asynchronousPatternEnabled` (the
 * default) a 202 answer with a Location header is polled with GET until it answers
 * otherwise, waiting Retry-After seconds (else `defaultPollMs`) between polls. The polling
 * happens inside the one work item: after a crash the request is sent again
 * (at-least-once), where the extension would resume polling from durable timers.
 */
// Built with the first durable HTTP call, not at host start (src/core/once.ts).
const requestSchema = once(() =>
  z.object({
    method: z.string().min(1),
    uri: z.url(),
    content: z.string().optional().nullable(),
    headers: z
      .record(z.string(), z.union([z.string(), z.array(z.string())]))
      .optional()
      .nullable(),
    asynchronousPatternEnabled: z.boolean().optional(),
  }),
);

/** What the SDK hands the orchestrator (`DurableHttpResponse`). */
export interface DurableHttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  content: string;
}

export async function callHttp(input: unknown, defaultPollMs = 30_000): Promise<DurableHttpResponse> {
  const req = requestSchema().parse(input);
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers ?? {})) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
  let method = req.method.toUpperCase();
  let url = req.uri;
  let body: string | undefined = req.content ?? undefined;
  for (;;) {
    const res = await fetch(url, { method, headers, body: method === 'GET' || method === 'HEAD' ? undefined : body });
    const location = res.headers.get('location');
    if (res.status !== 202 || location === null || req.asynchronousPatternEnabled === false) {
      return { statusCode: res.status, headers: Object.fromEntries(res.headers.entries()), content: await res.text() };
    }
    await res.arrayBuffer();
    const retryAfter = Number(res.headers.get('retry-after'));
    await new Promise((r) => setTimeout(r, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : defaultPollMs));
    url = new URL(location, url).href;
    method = 'GET';
    body = undefined;
  }
}
