import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { once } from '../core/once';
import { LedgerflowError, toLedgerflowError, type ErrorCode } from '../core/errors';
import { managementUrls, RPC_SEGMENT, WEBHOOK_PATH, type ApiSecrets } from './clientConfig';
import type { DurableEngine } from './engine';
import { fromJsonText, isTerminal, RuntimeStatus } from './history';
import { statusView } from './statusView';
import type { InstanceQuery, InstanceRow } from './store';
import { secretMatcher } from './systemKey';

/**
 * The Durable Functions HTTP management API under `/runtime/webhooks/durabletask`, as the
 * Durable extension's HttpApiHandler serves it: both the public webhook URLs put in
 * check-status responses and the paths the SDK's DurableClient calls below `rpcBaseUrl`
 * (they coincide here). Status codes follow the extension, because the SDK switches on
 * them (202 accepted, 404 unknown instance, 410 instance already finished).
 *
 * As on Azure, nobody calls it without a credential: webhook requests carry the system key
 * (`code=` or `x-functions-key`; else 401), and the in-process client's paths live under
 * `rpc/<rpc secret>/` (any other `rpc/` path is 404). Neither secret is echoed back.
 */
export interface HttpApiOptions {
  engine: DurableEngine;
  taskHub: string;
  /** Fallback origin for links when a request has no Host header. */
  origin: string;
  secrets: ApiSecrets;
  maxBodyBytes?: number;
}

type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

/** A request to the API, whether it came over a socket or from the host's own durable
 * client (inProcessClient.ts). */
export interface DurableApiRequest {
  readonly method: string;
  /** The request target as sent: path and query. */
  readonly target: string;
  /** Header values by lower-case name, as node:http gives them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body as text; rejects with `payload_too_large` past `maxBytes`. */
  text(maxBytes: number): Promise<string>;
}

/** The API's answer: status, headers (lower-case names) and body text. */
export interface DurableApiResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly text: string;
}

export interface DurableHttpApi {
  /** Serves a request on the host's HTTP server. */
  serve(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Answers a request that did not come over a socket, with the same routes and checks. */
  dispatch(req: DurableApiRequest): Promise<DurableApiResponse>;
}

// Built with the first management request, not at host start (src/core/once.ts).
const boolParam = once(() => z.enum(['true', 'false']).transform((v) => v === 'true'));
const statusList = once(() =>
  z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(RuntimeStatus))),
);
const dateParam = once(() =>
  z.string().transform((s, ctx) => {
    const t = Date.parse(s);
    if (Number.isNaN(t)) {
      ctx.addIssue({ code: 'custom', message: 'not a date' });
      return z.NEVER;
    }
    return t;
  }),
);
const filterSchema = once(() =>
  z.object({
    runtimeStatus: statusList().optional(),
    createdTimeFrom: dateParam().optional(),
    createdTimeTo: dateParam().optional(),
    instanceIdPrefix: z.string().optional(),
  }),
);
const listSchema = once(() =>
  filterSchema().extend({
    top: z.coerce.number().int().positive().max(10_000).optional(),
    showInput: boolParam().optional(),
  }),
);
/** Seconds, as the extension's TimeSpan parameters; it waits only when both are given. */
const waitSchema = once(() =>
  z.object({
    timeout: z.coerce.number().positive().max(3600).optional(),
    pollingInterval: z.coerce.number().positive().max(60).optional(),
  }),
);
const statusSchema = once(() =>
  z.object({
    showHistory: boolParam().optional(),
    showHistoryOutput: boolParam().optional(),
    showInput: boolParam().optional(),
    returnInternalServerErrorOnFailure: boolParam().optional(),
  }),
);
const restartSchema = once(() => waitSchema().extend({ restartWithNewInstanceId: boolParam().optional() }));

/** Retry-After the extension sends: 10 s on a check-status (start) response, 5 s on a 202 status. */
const RETRY_AFTER_START = '10';
const RETRY_AFTER_STATUS = '5';

export function createHttpApi(options: HttpApiOptions): DurableHttpApi {
  const { engine, taskHub } = options;
  const { systemKey, rpcSecret } = options.secrets;
  const isRpcSecret = secretMatcher(rpcSecret);
  const isSystemKey = secretMatcher(systemKey);
  const maxBody = options.maxBodyBytes ?? 16 * 1024 * 1024;

  const originOf = (req: DurableApiRequest): string => {
    const host = req.headers['host'];
    return typeof host === 'string' && host !== '' ? `http://${host}` : options.origin;
  };
  const query = (url: URL): Record<string, string> => Object.fromEntries(url.searchParams.entries());
  const parse = <T>(schema: z.ZodType<T>, value: unknown): T => {
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    throw new LedgerflowError('bad_request', 'invalid query', { details: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) });
  };

  const readBodyText = async (req: DurableApiRequest): Promise<string> => (await req.text(maxBody)).trim();

  async function readJsonBody(req: DurableApiRequest): Promise<unknown> {
    const text = await readBodyText(req);
    if (text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new LedgerflowError('bad_request', 'Invalid JSON content');
    }
  }

  /** The path below the API's root (the rpc secret stripped), once the request proved it
   * may call the API. */
  function authorizedPath(req: DurableApiRequest, url: URL): string {
    const below = url.pathname.slice(WEBHOOK_PATH.length);
    const segments = below.split('/');
    if (segments[1] === RPC_SEGMENT) {
      if (!isRpcSecret(segments[2])) throw new LedgerflowError('not_found', 'no such route');
      return '/' + segments.slice(3).join('/');
    }
    const header = req.headers['x-functions-key'];
    const given = url.searchParams.get('code') ?? (typeof header === 'string' ? header : undefined);
    if (!isSystemKey(given)) {
      throw new LedgerflowError('unauthenticated', 'the durable management API requires the system key (query parameter code or header x-functions-key)');
    }
    return below;
  }

  /** The extension's CreateCheckStatusResponse: 202, the links, Location and Retry-After. */
  function checkStatus(req: DurableApiRequest, id: string): Reply {
    const { rewindPostUri: _rewind, ...links } = managementUrls(originOf(req), taskHub, id, systemKey);
    return { status: 202, body: links, headers: { Location: links.statusQueryGetUri, 'Retry-After': RETRY_AFTER_START } };
  }

  /** The extension's HandleGetStatusRequestAsync. */
  function status(req: DurableApiRequest, url: URL, id: string, failedAs500: boolean | undefined): Reply {
    const f = parse(statusSchema(), query(url));
    const found = engine.getStatus(id, { showHistory: f.showHistory ?? false });
    if (found === undefined) return { status: 404 };
    const body = statusView(found.row, { showInput: f.showInput ?? true, showHistoryOutput: f.showHistoryOutput ?? false }, found.history);
    switch (found.row.status) {
      case 'Pending':
      case 'Running':
      case 'ContinuedAsNew':
      case 'Suspended':
        return { status: 202, body, headers: { Location: `${originOf(req)}${req.target}`, 'Retry-After': RETRY_AFTER_STATUS } };
      case 'Failed':
        return { status: (failedAs500 ?? f.returnInternalServerErrorOnFailure ?? false) ? 500 : 200, body };
      default:
        return { status: 200, body };
    }
  }

  /** Start and restart answer like the extension: wait with timeout and pollingInterval, else check status. */
  async function startedReply(req: DurableApiRequest, url: URL, id: string, wait: z.infer<ReturnType<typeof waitSchema>>): Promise<Reply> {
    if (wait.timeout === undefined || wait.pollingInterval === undefined) return checkStatus(req, id);
    const deadline = Date.now() + wait.timeout * 1000;
    for (;;) {
      const row = engine.getStatus(id)?.row;
      if (row?.status === 'Completed') return { status: 200, body: fromJsonText(row.output) ?? null };
      if (row && isTerminal(row.status)) return status(req, url, id, false);
      if (Date.now() >= deadline) return checkStatus(req, id);
      await new Promise((r) => setTimeout(r, Math.min(wait.pollingInterval! * 1000, Math.max(0, deadline - Date.now()))));
    }
  }

  /** The extension's entity routes: read one, list one entity function's, signal (POST, or DELETE for `delete`). */
  async function entityRoute(req: DurableApiRequest, name: string, key: string | undefined, method: string, q: Record<string, string>): Promise<Reply> {
    if (method === 'GET' && key === undefined) {
      const fetchState = q['fetchState'] === 'true';
      const body = engine.listEntities(name).map((e) => ({
        entityId: { name: name.toLowerCase(), key: e.key },
        lastOperationTime: new Date(e.lastOperationTime).toISOString(),
        ...(fetchState ? { state: e.state ?? null } : {}),
      }));
      return { status: 200, body };
    }
    if (key === undefined) return { status: 404 };
    if (method === 'GET') {
      const found = engine.readEntityState(name, key);
      return found.exists ? { status: 200, body: found.state ?? null } : { status: 404 };
    }
    if (method !== 'POST' && method !== 'DELETE') return { status: 404 };
    const op = method === 'DELETE' ? 'delete' : (q['op'] ?? '');
    await engine.signalEntity(name, key, op, await readEntityInput(req));
    return { status: 202 };
  }

  /** JSON when it parses (the extension parses application/json content), else the text itself. */
  async function readEntityInput(req: DurableApiRequest): Promise<unknown> {
    const text = await readBodyText(req);
    if (text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }

  async function route(req: DurableApiRequest, url: URL, below: string): Promise<Reply> {
    const path = below.replace(/\/+$/, '');
    // push, not map: see src/host/http/httpTrigger.ts (map's result changes its array map
    // once TurboFan inlines it, and this function's code was thrown away for it).
    const parts: string[] = [];
    for (const s of path.split('/')) if (s !== '') parts.push(decodeURIComponent(s));
    const method = req.method;
    const q = query(url);
    // One task hub per host: another hub's instances are not here (Azure reads that hub's store).
    const hub = q['taskHub'];
    if (hub !== undefined && hub !== '' && hub.toLowerCase() !== taskHub.toLowerCase()) {
      throw new LedgerflowError('not_found', `task hub '${hub}' is not served by this host (its task hub is '${taskHub}')`);
    }

    if (parts[0] === 'orchestrators' && (parts.length === 2 || parts.length === 3)) {
      if (method !== 'POST') return { status: 404 };
      const wait = parse(waitSchema(), q);
      const input = await readJsonBody(req);
      const id = await engine.startNew(parts[1] as string, { instanceId: parts[2], input });
      return startedReply(req, url, id, wait);
    }
    if (parts[0] === 'entities' && (parts.length === 2 || parts.length === 3)) {
      return entityRoute(req, parts[1] as string, parts[2], method, q);
    }
    if (parts[0] !== 'instances') throw new LedgerflowError('not_found', `no route ${method} ${path}`);
    const id = parts[1];
    if (id === undefined) {
      if (method === 'GET') {
        const f = parse(listSchema(), q);
        const top = f.top ?? 100;
        const token = req.headers['x-ms-continuation-token'];
        const after = typeof token === 'string' && token !== '' ? Buffer.from(token, 'base64url').toString('utf8') : undefined;
        const rows = engine.listInstances({ ...filterOf(f), after, limit: top + 1 });
        const page = rows.slice(0, top);
        const headers: Record<string, string> = {};
        if (rows.length > top) headers['x-ms-continuation-token'] = Buffer.from((page[page.length - 1] as InstanceRow).instanceId).toString('base64url');
        return { status: 200, body: page.map((r) => statusView(r, { showInput: f.showInput ?? false })), headers };
      }
      if (method === 'DELETE') {
        const f = parse(filterSchema(), q);
        if (f.createdTimeFrom === undefined) return { status: 400, body: "Please provide value for 'createdTimeFrom' parameter." };
        const n = await engine.purgeWhere({ ...filterOf(f), createdTo: f.createdTimeTo ?? Date.now() });
        return n === 0 ? { status: 404 } : { status: 200, body: { instancesDeleted: n } };
      }
      return { status: 404 };
    }
    const op = parts[2];
    const reason = q['reason'];
    if (op === undefined) {
      if (method === 'GET') return status(req, url, id, undefined);
      if (method === 'DELETE') {
        const n = await engine.purge(id);
        return n === 0 ? { status: 404 } : { status: 200, body: { instancesDeleted: n } };
      }
      return { status: 404 };
    }
    if (method !== 'POST') return { status: 404 };
    switch (op.toLowerCase()) {
      case 'raiseevent': {
        const name = parts[3];
        if (!name) throw new LedgerflowError('bad_request', 'event name missing');
        await engine.raiseEvent(id, name, await readJsonBody(req));
        return { status: 202 };
      }
      case 'terminate':
        await engine.terminate(id, reason);
        return { status: 202 };
      case 'suspend':
        await engine.suspend(id, reason);
        return { status: 202 };
      case 'resume':
        await engine.resume(id, reason);
        return { status: 202 };
      case 'restart': {
        const r = parse(restartSchema(), q);
        const newId = await engine.restart(id, r.restartWithNewInstanceId ?? true);
        return startedReply(req, url, newId, r);
      }
      case 'rewind':
        return { status: 501, body: 'rewind is not supported by the embedded durable engine' };
      default:
        throw new LedgerflowError('not_found', `no route ${method} ${path}`);
    }
  }

  async function dispatch(req: DurableApiRequest): Promise<DurableApiResponse> {
    const url = new URL(req.target, options.origin);
    let reply: Reply;
    try {
      reply = await route(req, url, authorizedPath(req, url));
    } catch (err) {
      const e = toLedgerflowError(err);
      reply = { status: e.httpStatus, body: { error: { code: e.code satisfies ErrorCode, message: e.message, ...(e.details ? { details: e.details } : {}) } } };
    }
    const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
    const headers: Record<string, string> = text
      ? { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) }
      : { 'content-length': '0' };
    for (const [name, value] of Object.entries(reply.headers ?? {})) headers[name.toLowerCase()] = value;
    return { status: reply.status, headers, text };
  }

  return {
    dispatch,
    async serve(req, res) {
      const reply = await dispatch({ method: req.method ?? 'GET', target: req.url ?? '/', headers: req.headers, text: (max) => readText(req, max) });
      res.writeHead(reply.status, reply.headers);
      res.end(reply.text);
    },
  };
}

async function readText(req: IncomingMessage, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new LedgerflowError('payload_too_large', 'request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function filterOf(f: z.infer<ReturnType<typeof filterSchema>>): InstanceQuery {
  return { statuses: f.runtimeStatus, createdFrom: f.createdTimeFrom, createdTo: f.createdTimeTo, instanceIdPrefix: f.instanceIdPrefix };
}
