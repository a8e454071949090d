import type { HttpMethod, HttpRequest, InvocationContext } from '@azure/functions';
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

export interface AuthRouteOptions<P extends z.ZodType | undefined, Q extends z.ZodType | undefined, B extends z.ZodType | undefined> {
  readonly methods: readonly HttpMethod[];
  readonly route: string;
  readonly params?: P;
  readonly query?: Q;
  readonly body?: B;
  readonly handler: (req: AuthRequest<Out<P>, Out<Q>, Out<B>>) => Promise<JsonReply> | JsonReply;
}

function check(schema: z.ZodType | undefined, value: unknown, problems: ErrorDetail[]): unknown {
  if (schema === undefined) return undefined;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  problems.push(...result.error.issues.map((issue) => ({ path: issue.path.join('.') || '(query)', message: issue.message })));
  return undefined;
}

export function authRoute<P extends z.ZodType | undefined = undefined, Q extends z.ZodType | undefined = undefined, B extends z.ZodType | undefined = undefined>(
  name: string,
  options: AuthRouteOptions<P, Q, B>,
): void {
  jsonRoute(name, {
    methods: options.methods,
    route: options.route,
    handler: async ({ request, context, params, query }) => {
      const caller = authenticator().authenticate(request.headers);
      const problems: ErrorDetail[] = [];
      const p = check(options.params, { ...params }, problems);
      const q = check(options.query, Object.fromEntries(query), problems);
      let b: unknown;
      try {
        b = await parseBody(request, options.body);
      } catch (err) {
        if (!(err instanceof LedgerflowError) || err.code !== 'validation_failed') throw err;
        problems.push(...(err.details ?? []));
      }
      if (problems.length > 0) throw validationError('the request is not valid', problems);
      const svc = await services();
      return options.handler({ request, context, services: svc, caller, params: p as Out<P>, query: q as Out<Q>, body: b as Out<B> });
    },
  });
}
