import { createHash } from 'node:crypto';
import { z } from 'zod';
import { event, EventType, type EventRaisedEvent, type InboxEvent } from './history';
import { hasInvalidCharacter } from './instanceId';

/**
 * Durable entities as the durable-functions SDK and the Durable extension exchange them,
 * kept pure here; the engine (engine.ts) persists and delivers what these build.
 *
 * - An entity is an instance whose id is its scheduler id `@<name lowercased>@<key>`; its
 *   row's `input` holds its state as JSON text (absent: the entity does not exist).
 * - An operation is a message in the entity's inbox: an EventRaised named `op` whose input
 *   is the request `{id, op, signal, input, parent}` (input as JSON text).
 * - The engine runs every visible operation in one batch through the SDK's entity handler
 *   (`DurableEntityBindingInfo` in, `EntityState` out) and commits, in one transaction, the
 *   new state, the consumed messages, a response to each calling orchestration (an
 *   EventRaised named after the request id, input `{result, exceptionType?}`, which is what
 *   the SDK's `callEntity` task waits for) and the signals the operations sent.
 */
export interface EntityRequest {
  id: string;
  op: string;
  signal: boolean;
  /** JSON text of the operation's input. */
  input?: string | undefined;
  /** The orchestration instance waiting for the result (calls only). */
  parent?: string | undefined;
}

export interface EntityOutcome {
  /** JSON text of the new state; undefined when the entity does not exist (deleted). */
  state: string | undefined;
  results: { isError: boolean; result: string | undefined }[];
  signals: { target: string; op: string; input: string | undefined }[];
}

export const isEntityId = (instanceId: string): boolean => instanceId.startsWith('@');

export const entitySchedulerId = (name: string, key: string): string => `@${name.toLowerCase()}@${key}`;

export function entityIdParts(schedulerId: string): { name: string; key: string } {
  const at = schedulerId.indexOf('@', 1);
  return { name: schedulerId.slice(1, at), key: schedulerId.slice(at + 1) };
}

/** Why an entity name or key is refused (the extension's SignalEntityAsync rule), or undefined. */
export function entityIdProblem(name: string, key: string): string | undefined {
  if (name === '' || name.includes('@')) return 'Entity names must not be empty or contain @.';
  if (key === '') return 'Entity keys must not be empty.';
  if (hasInvalidCharacter(key)) return 'Entity keys must not contain /, \\, #, ?, or control characters.';
  return undefined;
}

/**
 * The id of the request an orchestration's task sends: deterministic (it is computed again
 * on every replay, as the extension's NewGuid is) and unique per execution and task.
 */
export function entityRequestId(executionId: string, taskId: number): string {
  const h = createHash('sha256').update(`${executionId}:${taskId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function requestEvent(request: EntityRequest, now: Date): EventRaisedEvent {
  return event(EventType.EventRaised, now, { Name: 'op', Input: JSON.stringify(request) });
}

const requestSchema = z.object({
  id: z.string(),
  op: z.string(),
  signal: z.boolean(),
  input: z.string().optional(),
  parent: z.string().optional(),
});

/** The request an entity inbox message carries, or undefined for anything else. */
export function requestOf(e: InboxEvent): EntityRequest | undefined {
  if (e.EventType !== EventType.EventRaised || e.Name !== 'op' || e.Input === undefined) return undefined;
  const r = requestSchema.safeParse(JSON.parse(e.Input));
  return r.success ? r.data : undefined;
}

/** The entity trigger's input (the SDK's `DurableEntityBindingInfo`) as JSON text. */
export function entityTriggerJson(schedulerId: string, state: string | undefined, batch: readonly EntityRequest[]): string {
  return JSON.stringify({
    self: entityIdParts(schedulerId),
    exists: state !== undefined,
    state,
    batch: batch.map((r) => ({ id: r.id, name: r.op, signal: r.signal, input: r.input })),
  });
}

const outcomeSchema = z.object({
  entityExists: z.boolean().optional(),
  entityState: z.string().optional().nullable(),
  results: z.array(z.object({ isError: z.boolean(), result: z.string().optional().nullable() }).nullable()),
  signals: z.array(z.object({ target: z.object({ name: z.string(), key: z.string() }), name: z.string(), input: z.string().optional().nullable() })),
});

/** Parses the SDK's `EntityState`; `count` results are expected, one per request. */
export function parseEntityOutcome(value: unknown, count: number): EntityOutcome {
  const o = outcomeSchema.parse(typeof value === 'string' ? JSON.parse(value) : value);
  return {
    state: o.entityExists && o.entityState != null ? o.entityState : undefined,
    results: Array.from({ length: count }, (_, i) => {
      const r = o.results[i];
      return { isError: r?.isError ?? false, result: r?.result ?? undefined };
    }),
    signals: o.signals.map((s) => ({ target: entitySchedulerId(s.target.name, s.target.key), op: s.name, input: s.input || undefined })),
  };
}

/** Every operation of a batch whose handler could not run fails; the state stays. */
export function failedOutcome(state: string | undefined, count: number, message: string): EntityOutcome {
  return { state, results: Array.from({ length: count }, () => ({ isError: true, result: JSON.stringify(message) })), signals: [] };
}

/** The response a calling orchestration's `callEntity` task receives. */
export function responseEvent(request: EntityRequest, result: EntityOutcome['results'][number], now: Date): EventRaisedEvent {
  const body = result.isError ? { result: result.result, exceptionType: 'Error' } : { result: result.result };
  return event(EventType.EventRaised, now, { Name: request.id, Input: JSON.stringify(body) });
}
