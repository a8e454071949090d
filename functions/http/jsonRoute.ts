import { app, type FunctionInput, type HttpMethod, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import type { z } from 'zod';
import { LedgerflowError, validationError, type ErrorDetail } from '../../src/core/errors';
import { errorResponse } from './errorResponse';
import { functionRoute } from '../../src/api/routes';

/** What a JSON route handler sees: the request, its route parameters, and the body already
 * parsed and validated by the route's schema. */
export interface JsonRequest<TBody> {
  readonly request: HttpRequest;
  readonly context: InvocationContext;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly body: TBody;
}

/** A handler's answer: a status (default 200) and a JSON body, or a full HttpResponseInit
 * for anything else (raw files, redirects). */
export type JsonReply = { readonly status?: number; readonly body?: unknown; readonly headers?: Record<string, string> } | { readonly raw: HttpResponseInit };

export interface JsonRouteOptions<TSchema extends z.ZodType | undefined> {
  readonly methods: readonly HttpMethod[];
  /** Route template under /api, e.g. `datasets/{id}`. */
  readonly route: string;
  /** Validates the JSON body; failures become 400 `validation_failed` with every issue. */
  readonly body?: TSchema;
  /** Validates the query string the same way (the handler still gets it raw). */
  readonly query?: z.ZodType;
  /** Extra input bindings, e.g. `df.input.durableClient()`. */
  readonly extraInputs?: FunctionInput[];
  readonly handler: (req: JsonRequest<TSchema extends z.ZodType ? z.output<TSchema> : undefined>) => Promise<JsonReply> | JsonReply;
}

/** Validates one part of a request (route parameters, query), adding every issue to
 * `problems` under `where` when the part is the problem as a whole. */
export function checkPart(schema: z.ZodType | undefined, value: unknown, where: string, problems: ErrorDetail[]): unknown {
  if (schema === undefined) return undefined;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  problems.push(...result.error.issues.map((issue) => ({ path: issue.path.join('.') || where, message: issue.message })));
  return undefined;
}

/** Reads and validates a JSON body (also for routes that must authenticate before judging it). */
export async function parseBody(request: HttpRequest, schema: z.ZodType | undefined): Promise<unknown> {
  if (schema === undefined) return undefined;
  const text = await request.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    throw new LedgerflowError('bad_request', 'the request body is not valid JSON');
  }
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  throw new LedgerflowError('validation_failed', 'the request body is not valid', {
    details: result.error.issues.map((issue) => ({ path: issue.path.join('.') || '(body)', message: issue.message })),
  });
}

function toResponse(reply: JsonReply): HttpResponseInit {
  if ('raw' in reply) return reply.raw;
  return reply.body === undefined
    ? { status: reply.status ?? 204, headers: reply.headers }
    : { status: reply.status ?? 200, jsonBody: reply.body, headers: reply.headers };
}

/**
 * Declares an HTTP function that speaks JSON, so triggers stay thin: parse, call core, reply.
 * Errors thrown anywhere become the API's error shape through errorResponse.
 */
export function jsonRoute<TSchema extends z.ZodType | undefined = undefined>(name: string, options: JsonRouteOptions<TSchema>): void {
  app.http(name, {
    methods: [...options.methods],
    route: functionRoute(options.route),
    authLevel: 'anonymous',
    ...(options.extraInputs !== undefined && { extraInputs: options.extraInputs }),
    handler: async (request, context) => {
      try {
        const problems: ErrorDetail[] = [];
        checkPart(options.query, Object.fromEntries(request.query), '(query)', problems);
        if (problems.length > 0) throw validationError('the request is not valid', problems);
        const body = (await parseBody(request, options.body)) as TSchema extends z.ZodType ? z.output<TSchema> : undefined;
        const params = request.params;
        return toResponse(await options.handler({ request, context, params, query: request.query, body }));
      } catch (err) {
        return errorResponse(err, context);
      }
    },
  });
}
