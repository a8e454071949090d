import * as df from 'durable-functions';
import type { Task } from 'durable-functions';
import type { FunctionInput, FunctionOutput, InvocationContext } from '@azure/functions';
import { services } from '../../src/app/services';
import type { ActivityDeps } from '../../src/app/workflows/activityDeps';
import { LedgerflowError, toLedgerflowError } from '../../src/core/errors';

/**
 * A typed activity handle (durable-js `df.app.activity` returns an untyped one): calling it
 * gives the task to yield; `call` yields it and types the result. Orchestrators reach
 * activities only through these, never by name strings.
 */
export interface ActivityHandle<I, O> {
  (input: I): Task;
  readonly activityName: string;
  /** The implementation, callable with explicit dependencies (tests). */
  readonly run: ActivityImpl<I, O>;
  /** Phantom: carries the output type to `call`. */
  readonly output?: O;
}

export type ActivityImpl<I, O> = (input: I, deps: ActivityDeps, context: InvocationContext) => Promise<O>;

export function defineActivity<I, O>(
  name: string,
  impl: ActivityImpl<I, O>,
  bindings: { extraInputs?: FunctionInput[]; extraOutputs?: FunctionOutput[] } = {},
): ActivityHandle<I, O> {
  const registered = df.app.activity(name, {
    ...bindings,
    handler: async (input: unknown, context: InvocationContext) => {
      const deps = await (await services()).activityDeps();
      try {
        return await impl(input as I, deps, context);
      } catch (err) {
        throw publicFailure(name, err, deps);
      }
    },
  });
  const handle = (input: I): Task => registered(input);
  return Object.assign(handle, { activityName: name, run: impl });
}

/**
 * What an activity's failure may tell the orchestration: a failure's message ends up in the
 * run's status, which its requester reads over the API, so only typed errors (written for
 * callers) pass as they are. Anything else (a system error naming host paths, a library's
 * message) is logged whole and reaches the orchestration as an internal error.
 */
export function publicFailure(activity: string, err: unknown, deps: ActivityDeps): LedgerflowError {
  const typed = toLedgerflowError(err);
  if (typed === err) return typed;
  deps.log.error({ err, activity }, 'activity failed');
  return typed.code === 'internal' ? new LedgerflowError('internal', `internal error in ${activity} (the host log has the details)`) : typed;
}

/** Yields an activity and returns its typed result: the one place where the SDK's untyped
 * `yield` result meets our types. Use as `const x = yield* call(handle, input)`. */
export function* call<I, O>(handle: ActivityHandle<I, O>, input: I): Generator<Task, O, unknown> {
  return (yield handle(input)) as O;
}
