import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { HostContext, HostExtension } from '../extension';
import { RETURN_BINDING, stringOption, type RegisteredFunction } from '../app/registry';
import { forwardableHeaders, fromRpcHttpResponse, plainHttpResponse, toRpcHttpRequest } from '../wire/httpData';
import type { RpcTypedData } from '../wire/rpcTypes';
import { BodyTooLargeError, readBody } from './readBody';
import { UnsupportedBindingError } from '../bindings';
import { writeJsonError } from './jsonError';
import { forwardToWorker } from './workerProxy';
import { compareRank, matchRoute, parseRouteTemplate, type RouteTemplate } from './routeTemplate';

interface HttpRoute {
  readonly fn: RegisteredFunction;
  readonly route: RouteTemplate;
  /** Upper-case methods, or undefined for any method. */
  readonly methods: ReadonlySet<string> | undefined;
}

function toRoute(fn: RegisteredFunction): HttpRoute {
  const template = stringOption(fn.trigger, 'route') ?? fn.name;
  let route: RouteTemplate;
  try {
    route = parseRouteTemplate(template);
  } catch (err) {
    throw new Error(`function "${fn.name}": ${(err as Error).message}`, { cause: err });
  }
  const methods = fn.trigger.options['methods'];
  return {
    fn,
    route,
    methods: Array.isArray(methods) && methods.length > 0 ? new Set(methods.map((m) => String(m).toUpperCase())) : undefined,
  };
}

/** The URL the client used (its Host header), or the host's own base URL when the header
 * is missing or malformed. */
function requestUrl(req: IncomingMessage, baseUrl: string): string {
  const path = req.url ?? '/';
  try {
    if (req.headers.host) return new URL(path, `http://${req.headers.host}`).href;
  } catch {
    // fall through to the base URL
  }
  return new URL(path, baseUrl).href;
}

export interface HttpTriggerOptions {
  readonly maxBodyBytes: number;
}

/** httpTrigger functions under `/<routePrefix>`: routing, 404/405, body limit, and the
 * http output binding written back as the response. Auth levels are not enforced: on one
 * machine every route is anonymous (the app authenticates callers itself). */
export function httpTriggerExtension(options: HttpTriggerOptions): HostExtension {
  let routes: HttpRoute[] = [];
  let ctx: HostContext;
  let prefix = '';

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const rest = url.pathname.slice(prefix.length);
    // Arrays made with push, not Array.prototype.map: map's result is PACKED from the builtin
    // and HOLEY once TurboFan inlines the call, and each such change of an array's map threw
    // away this handler's optimised code (and all it inlines) once more in chain rounds
    // (--trace-deopt: "wrong map" here and in matchRoute), to be compiled again.
    const segments: string[] = [];
    const lowered: string[] = [];
    try {
      for (const s of rest.split('/')) {
        if (s === '') continue;
        const segment = decodeURIComponent(s);
        segments.push(segment);
        lowered.push(segment.toLowerCase());
      }
    } catch {
      writeJsonError(res, 400, 'bad_request', 'malformed URL encoding');
      return;
    }
    const method = (req.method ?? 'GET').toUpperCase();
    // The first route (most specific first) that matches the path and takes the method; the
    // others are only looked at again to list the allowed methods of a 405.
    let hit: { r: HttpRoute; params: Record<string, string> } | undefined;
    let pathMatched = false;
    for (const r of routes) {
      const params = matchRoute(r.route, segments, lowered);
      if (params === undefined) continue;
      pathMatched = true;
      if (r.methods === undefined || r.methods.has(method)) {
        hit = { r, params };
        break;
      }
    }
    if (!pathMatched) {
      writeJsonError(res, 404, 'not_found', `no route matches ${url.pathname}`);
      return;
    }
    if (!hit) {
      const allow = [...new Set(routes.filter((r) => matchRoute(r.route, segments, lowered) !== undefined).flatMap((r) => [...(r.methods ?? [])]))]
        .sort()
        .join(', ');
      writeJsonError(res, 405, 'method_not_allowed', `${method} is not allowed on ${url.pathname}`, { allow });
      return;
    }

    let body: Buffer;
    try {
      body = await readBody(req, options.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        writeJsonError(res, 413, 'payload_too_large', err.message);
        return;
      }
      throw err;
    }
    const { fn } = hit.r;
    if (ctx.workerHttpProxy !== undefined) {
      await viaProxy(ctx, ctx.workerHttpProxy, fn, req, res, { method, body, params: hit.params, headers: req.headers });
      return;
    }
    const trigger = toRpcHttpRequest({
      method,
      url: requestUrl(req, ctx.baseUrl),
      headers: req.headers,
      body,
      params: hit.params,
    });
    let response;
    try {
      const output = fn.outputs.find((b) => b.type.toLowerCase() === 'http');
      const result = await ctx.invoke(fn, { trigger, ...(output?.name === RETURN_BINDING ? { convertReturn: plainHttpResponse } : {}) });
      response = fromRpcHttpResponse(output === undefined ? undefined : output.name === RETURN_BINDING ? result.returnValue : result.outputs.get(output.name));
    } catch (err) {
      if (err instanceof UnsupportedBindingError) {
        writeJsonError(res, 501, 'not_implemented', err.message);
        return;
      }
      // The host logged the failure with the invocation id; the client learns nothing more.
      writeJsonError(res, 500, 'internal', 'internal error');
      return;
    }
    const headers = { ...response.headers };
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-length') && !res.req.method?.match(/^HEAD$/i)) {
      headers['content-length'] = String(response.body.length);
    }
    res.writeHead(response.status, headers);
    res.end(response.body);
  }

  return {
    name: 'http',
    triggerTypes: ['httpTrigger'],
    outputBindingTypes: ['http'],
    start(hostCtx, functions) {
      ctx = hostCtx;
      routes = functions.map(toRoute).sort((a, b) => compareRank(a.route, b.route));
      const routePrefix = hostCtx.hostJson.extensions.http.routePrefix.replace(/^\/+|\/+$/g, '');
      prefix = routePrefix === '' ? '' : `/${routePrefix}`;
      hostCtx.mountHttp(prefix === '' ? '/' : prefix, handle);
    },
    stop() {},
  };
}

/**
 * HTTP streams (app.setup({ enableHttpStream: true })), as the Functions host does them: the
 * invocation carries only metadata (route parameters, headers) and the request itself goes
 * to the worker's proxy under the invocation's id; the function's response comes back from
 * there and is written to the client as it is produced, so a large body never sits in memory.
 */
async function viaProxy(
  ctx: HostContext,
  proxy: Server,
  fn: RegisteredFunction,
  req: IncomingMessage,
  res: ServerResponse,
  incoming: { method: string; body: Buffer; params: Record<string, string>; headers: IncomingMessage['headers'] },
): Promise<void> {
  const invocationId = randomUUID();
  const headers = forwardableHeaders(incoming.headers);
  const triggerMetadata: Record<string, RpcTypedData> = { Headers: { json: JSON.stringify(headers) } };
  for (const [name, value] of Object.entries(incoming.params)) triggerMetadata[name] = { string: value };
  // The model reads the request from the proxy, not from this (bodiless) trigger: the
  // headers are the forwarded ones already made, and no deferred request is built for it.
  const trigger: RpcTypedData = { http: { method: incoming.method, url: requestUrl(req, ctx.baseUrl), headers, params: incoming.params } };
  const invocation = ctx.invoke(fn, { trigger, triggerMetadata, invocationId, viaProxy: true });
  const forwarded = forwardToWorker(proxy, res, {
    invocationId,
    method: incoming.method,
    url: req.url ?? '/',
    headers,
    host: req.headers.host ?? new URL(ctx.baseUrl).host,
    body: incoming.body,
  });
  try {
    await Promise.all([invocation, forwarded.done]);
  } catch {
    forwarded.detach();
    if (!res.headersSent) writeJsonError(res, 500, 'internal', 'internal error');
    else res.destroy();
  }
}
