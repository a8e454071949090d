import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { LedgerflowError, toLedgerflowError, type ErrorCode } from '../core/errors';
import { managementUrls, RPC_SEGMENT, WEBHOOK_PATH, type ApiSecrets } from './clientConfig';
import type { DurableEngine } from './engine';
import { eventTypeName, fromJsonText, isTerminal, RuntimeStatus, type HistoryEvent } from './history';
import type { InstanceQuery, InstanceRow } from './store';
import { secretMatches } from './systemKey';

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

const boolParam = z.enum(['true', 'false']).transform((v) => v === 'true');
const statusList = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))
  .pipe(z.array(z.enum(RuntimeStatus)));
const dateParam = z.string().transform((s, ctx) => {
  const t = Date.parse(s);
  if (Number.isNaN(t)) {
    ctx.addIssue({ code: 'custom', message: 'not a date' });
    return z.NEVER;
  }
  return t;
});
const listSchema = z.object({
  runtimeStatus: statusList.optional(),
  createdTimeFrom: dateParam.optional(),
  createdTimeTo: dateParam.optional(),
  instanceIdPrefix: z.string().optional(),
  top: z.coerce.number().int().positive().max(10_000).optional(),
  showInput: boolParam.optional(),
});
const waitSchema = z.object({
  timeout: z.coerce.number().positive().max(3600).optional(),
  pollingInterval: z.coerce.number().positive().max(60).optional(),
});
const statusSchema = z.object({
  showHistory: boolParam.optional(),
  showHistoryOutput: boolParam.optional(),
  showInput: boolParam.optional(),
});

export function createHttpApi(options: HttpApiOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { engine, taskHub } = options;
  const { systemKey, rpcSecret } = options.secrets;
  const maxBody = options.maxBodyBytes ?? 16 * 1024 * 1024;

  const originOf = (req: IncomingMessage): string => (req.headers.host ? `http://${req.headers.host}` : options.origin);
  const query = (url: URL): Record<string, string> => Object.fromEntries(url.searchParams.entries());
  const parse = <T>(schema: z.ZodType<T>, value: unknown): T => {
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    throw new LedgerflowError(
      'bad_request',
      'invalid query',
      { details: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
    );
  };

  async function readJsonBody(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > maxBody) throw new LedgerflowError('payload_too_large', 'request body too large');
      chunks.push(chunk as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8').trim();
    if (text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new LedgerflowError('bad_request', 'request body is not JSON');
    }
  }

  const statusBody = (row: InstanceRow, showInput: boolean, history?: HistoryEvent[], showHistoryOutput = false) => ({
    name: row.name,
    instanceId: row.instanceId,
    runtimeStatus: row.status,
    input: showInput ? (fromJsonText(row.input) ?? null) : null,
    customStatus: fromJsonText(row.customStatus) ?? null,
    output: fromJsonText(row.output) ?? null,
    createdTime: new Date(row.createdAt).toISOString(),
    lastUpdatedTime: new Date(row.updatedAt).toISOString(),
    ...(row.failure ? { failureDetails: { errorMessage: row.failure.message, errorDetails: row.failure.details ?? null } } : {}),
    ...(history
      ? (() => {
          const events = history.map((e) => historyView(e, showHistoryOutput));
          // `historyEvents` is the extension's field; the JS SDK's status type reads `history`.
          return { historyEvents: events, history: events };
        })()
      : {}),
  });

  /** The path below the API's root (the rpc secret stripped), once the request proved it
   * may call the API. */
  function authorizedPath(req: IncomingMessage, url: URL): string {
    const below = url.pathname.slice(WEBHOOK_PATH.length);
    const segments = below.split('/');
    if (segments[1] === RPC_SEGMENT) {
      if (!secretMatches(segments[2], rpcSecret)) throw new LedgerflowError('not_found', 'no such route');
      return '/' + segments.slice(3).join('/');
    }
    const header = req.headers['x-functions-key'];
    const given = url.searchParams.get('code') ?? (typeof header === 'string' ? header : undefined);
    if (!secretMatches(given, systemKey)) {
      throw new LedgerflowError('unauthenticated', 'the durable management API requires the system key (query parameter code or header x-functions-key)');
    }
    return below;
  }

  async function route(req: IncomingMessage, url: URL, below: string): Promise<Reply> {
    const path = below.replace(/\/+$/, '');
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    const method = req.method ?? 'GET';
    const q = query(url);

    if (parts[0] === 'orchestrators' && (parts.length === 2 || parts.length === 3) && method === 'POST') {
      const wait = parse(waitSchema, q);
      const input = await readJsonBody(req);
      const id = await engine.startNew(parts[1] as string, { instanceId: parts[2], input });
      const links = managementUrls(originOf(req), taskHub, id, systemKey);
      if (wait.timeout !== undefined) {
        // The create-and-wait URL: answer with the output if it finishes in time.
        const deadline = Date.now() + wait.timeout * 1000;
        for (;;) {
          const row = engine.getStatus(id)?.row;
          if (row && isTerminal(row.status)) {
            return row.status === 'Completed'
              ? { status: 200, body: fromJsonText(row.output) ?? null }
              : { status: 200, body: statusBody(row, true) };
          }
          if (Date.now() >= deadline) break;
          await new Promise((r) => setTimeout(r, Math.min((wait.pollingInterval ?? 1) * 1000, Math.max(0, deadline - Date.now()))));
        }
      }
      return { status: 202, body: links, headers: { Location: links.statusQueryGetUri } };
    }
    if (parts[0] !== 'instances') {
      if (parts[0] === 'entities') throw new LedgerflowError('unavailable', 'durable entities are not supported by the embedded engine');
      throw new LedgerflowError('not_found', `no route ${method} ${path}`);
    }
    const id = parts[1];
    if (id === undefined) {
      const f = parse(listSchema, q);
      const filter: InstanceQuery = {
        statuses: f.runtimeStatus,
        createdFrom: f.createdTimeFrom,
        createdTo: f.createdTimeTo,
        instanceIdPrefix: f.instanceIdPrefix,
      };
      if (method === 'GET') {
        const top = f.top ?? 100;
        const token = req.headers['x-ms-continuation-token'];
        const after = typeof token === 'string' && token !== '' ? Buffer.from(token, 'base64url').toString('utf8') : undefined;
        const rows = engine.listInstances({ ...filter, after, limit: top + 1 });
        const page = rows.slice(0, top);
        const headers: Record<string, string> = {};
        if (rows.length > top) headers['x-ms-continuation-token'] = Buffer.from((page[page.length - 1] as InstanceRow).instanceId).toString('base64url');
        return { status: 200, body: page.map((r) => statusBody(r, f.showInput ?? false)), headers };
      }
      if (method === 'DELETE') {
        const n = await engine.purgeWhere(filter);
        return n === 0 ? { status: 404, body: { instancesDeleted: 0 } } : { status: 200, body: { instancesDeleted: n } };
      }
      throw new LedgerflowError('method_not_allowed', `${method} is not allowed here`);
    }
    const op = parts[2];
    const reason = q['reason'];
    if (op === undefined && method === 'GET') {
      const f = parse(statusSchema, q);
      const status = engine.getStatus(id, { showHistory: f.showHistory ?? false });
      if (status === undefined) return { status: 404, body: { message: `no instance with id '${id}'` } };
      const running = status.row.status === 'Pending' || status.row.status === 'Running' || status.row.status === 'Suspended';
      const links = managementUrls(originOf(req), taskHub, id, systemKey);
      return {
        status: running ? 202 : 200,
        body: statusBody(status.row, f.showInput ?? true, status.history, f.showHistoryOutput ?? false),
        headers: running ? { Location: links.statusQueryGetUri, 'Retry-After': '1' } : {},
      };
    }
    if (op === undefined && method === 'DELETE') {
      const n = await engine.purge(id);
      return n === 0 ? { status: 404, body: { instancesDeleted: 0 } } : { status: 200, body: { instancesDeleted: n } };
    }
    if (method !== 'POST') throw new LedgerflowError('method_not_allowed', `${method} is not allowed here`);
    switch (op) {
      case 'raiseEvent': {
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
      case 'rewind':
        return { status: 501, body: 'rewind is not supported by the embedded durable engine' };
      default:
        throw new LedgerflowError('not_found', `no route ${method} ${path}`);
    }
  }

  return async (req, res) => {
    const url = new URL(req.url ?? '/', options.origin);
    let reply: Reply;
    try {
      reply = await route(req, url, authorizedPath(req, url));
    } catch (err) {
      const e = toLedgerflowError(err);
      reply = { status: e.httpStatus, body: { error: { code: e.code satisfies ErrorCode, message: e.message, ...(e.details ? { details: e.details } : {}) } } };
    }
    const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      ...(text ? { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) } : { 'Content-Length': 0 }),
      ...reply.headers,
    });
    res.end(text);
  };
}

/** A history event as the status API shows it: type names, no engine bookkeeping. */
function historyView(e: HistoryEvent, showOutput: boolean): Record<string, unknown> {
  const { EventType: type, IsPlayed: _played, ...rest } = e as HistoryEvent & Record<string, unknown>;
  const view: Record<string, unknown> = { EventType: eventTypeName(type) };
  for (const [k, v] of Object.entries(rest)) {
    if (k === 'Retry' || k === 'RetryOf' || k === 'ActionCount' || k === 'OrchestrationInstance') continue;
    if (k === 'Input' || k === 'Result') {
      if (showOutput) view[k] = fromJsonText(v as string | undefined) ?? null;
      continue;
    }
    view[k] = v;
  }
  return view;
}
