import type { FunctionInput, HttpMethod, HttpRequest, InvocationContext } from '@azure/functions';
import type { z } from 'zod';
import { LedgerflowError, validationError, type ErrorDetail } from '../../src/core/errors';
import type { Caller } from '../../src/core/model';
import { authenticator } from '../../src/app/auth';
import { services, type Services } from '../../src/app/services';
import { jsonRoute, parseBody, type JsonReply } from './jsonRoute';

/**
 * An authenticated JSON route: authenticates first (401 before anything about the request
 * is judged), then validates route parameters, query and body together, so one 400 names
 * every bad field.
 */
export interface AuthRequest<P, Q, B> {
  readonly request: HttpRequest;
  readonly context: InvocationContext;
  readonly services: Services;
  readonly caller: Caller;
  readonly params: P;
  readonly query: Q;
  readonly body: B;
}

type Out<T> = T extends z.ZodType ? z.output<T> : undefined;

/** What authRoute takes from a route table entry (src/api/routes.ts): the same entry the
 * OpenAPI document is generated from, so the checked schemas and the published ones are one. */
export interface AuthRouteSpec {
  readonly name: string;
  readonly method: HttpMethod;
  readonly path: string;
  readonly params?: z.ZodType;
  readonly query?: z.ZodType;
  readonly body?: z.ZodType;
}

type Part<R, K extends 'params' | 'query' | 'body'> = R extends { readonly [key in K]: infer S } ? Out<S> : undefined;

export type AuthHandler<R extends AuthRouteSpec> = (req: AuthRequest<Part<R, 'params'>, Part<R, 'query'>, Part<R, 'body'>>) => Promise<JsonReply> | JsonReply;

function check(schema: z.ZodType | undefined, value: unknown, problems: ErrorDetail[]): unknown {
  if (schema === undefined) return undefined;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  problems.push(...result.error.issues.map((issue) => ({ path: issue.path.join('.') || '(query)', message: issue.message })));
  return undefined;
}

/** `extraInputs`: input bindings the handler reads through `context` (the durable client). */
export function authRoute<R extends AuthRouteSpec>(route: R, handler: AuthHandler<R>, options: { extraInputs?: FunctionInput[] } = {}): void {
  jsonRoute(route.name, {
    methods: [route.method],
    route: route.path,
    ...(options.extraInputs !== undefined && { extraInputs: options.extraInputs }),
    handler: async ({ request, context, params, query }) => {
      const caller = authenticator().authenticate(request.headers);
      const problems: ErrorDetail[] = [];
      const p = check(route.params, { ...params }, problems);
      const q = check(route.query, Object.fromEntries(query), problems);
      let b: unknown;
      try {
        b = await parseBody(request, route.body);
      } catch (err) {
        if (!(err instanceof LedgerflowError) || err.code !== 'validation_failed') throw err;
        problems.push(...(err.details ?? []));
      }
      if (problems.length > 0) throw validationError('the request is not valid', problems);
      const svc = await services();
      return handler({ request, context, services: svc, caller, params: p, query: q, body: b } as Parameters<AuthHandler<R>>[0]);
    },
  });
}
