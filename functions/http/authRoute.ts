import * as df from 'durable-functions';
import type { HttpMethod, HttpRequest, InvocationContext } from '@azure/functions';
import type { z } from 'zod';
import { LedgerflowError, validationError, type ErrorDetail } from '../../src/core/errors';
import type { Caller } from '../../src/core/model';
import { authenticator } from '../../src/app/auth';
import { services, type Services } from '../../src/app/services';
import { durableRunControl, type RunControl } from '../../src/app/workflows/runControl';
import { checkPart, jsonRoute, parseBody, type JsonReply } from './jsonRoute';
import { durableClientOf } from '../../src/app/workflows/durableClient';

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
  /** The durable backend, narrowed to what the app needs; only for routes declared `durable`. */
  readonly runs: RunControl;
}

/** What some routes need beyond JSON in, JSON out. */
export interface AuthRouteOptions<B> {
  /** The route reads or drives workflow runs: the durable client comes in as an input binding. */
  readonly durable?: boolean;
  /** Reads the body instead of the JSON parse against the route's schema (POST /workflows also
   * takes the YAML alone). It throws `validation_failed` with details for a bad body; those
   * are reported together with bad parameters. */
  readonly readBody?: (request: HttpRequest) => Promise<B>;
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

export type AuthHandler<R extends AuthRouteSpec, B = Part<R, 'body'>> = (
  req: AuthRequest<Part<R, 'params'>, Part<R, 'query'>, B>,
) => Promise<JsonReply> | JsonReply;

const durableClient = df.input.durableClient();

export function authRoute<R extends AuthRouteSpec, B = Part<R, 'body'>>(
  route: R,
  handler: AuthHandler<R, NoInfer<B>>,
  options: AuthRouteOptions<B> = {},
): void {
  // One refusing RunControl per route, not one (and its closure) per request.
  const notBound = options.durable === true ? undefined : notDurable(route.name);
  jsonRoute(route.name, {
    methods: [route.method],
    route: route.path,
    ...(options.durable === true && { extraInputs: [durableClient] }),
    handler: async ({ request, context, params, query }) => {
      const caller = authenticator().authenticate(request.headers);
      const problems: ErrorDetail[] = [];
      const p = checkPart(route.params, { ...params }, '(params)', problems);
      const q = checkPart(route.query, Object.fromEntries(query), '(query)', problems);
      let b: unknown;
      try {
        b = options.readBody !== undefined ? await options.readBody(request) : await parseBody(request, route.body);
      } catch (err) {
        if (!(err instanceof LedgerflowError) || err.code !== 'validation_failed') throw err;
        problems.push(...(err.details ?? []));
      }
      if (problems.length > 0) throw validationError('the request is not valid', problems);
      const svc = await services();
      const runs = notBound ?? durableRunControl(durableClientOf(context));
      return handler({ request, context, services: svc, caller, params: p, query: q, body: b, runs } as Parameters<AuthHandler<R, B>>[0]);
    },
  });
}

/** A route that did not declare `durable` has no durable client; reaching for one is a bug. */
function notDurable(name: string): RunControl {
  const refuse = (): never => {
    throw new LedgerflowError('unavailable', `route ${name} is not bound to the durable client`);
  };
  return { start: refuse, get: refuse, list: refuse, raise: refuse, purge: refuse };
}
