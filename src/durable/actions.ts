import { z } from 'zod';
import { once } from '../core/once';
import type { FailureInfo, RetryPolicy } from './history';

/**
 * The orchestrator's answer to one episode, as the durable-functions SDK returns it from
 * its orchestration trigger handler (`OrchestratorState`): every action the orchestrator
 * has issued since its execution started, whether or not it is done, its output, custom
 * status and error. Parsed here, once, into a typed union; nothing else reads SDK objects.
 */
export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;

export type Action =
  | { type: 'callActivity'; name: string; input: string | undefined; retry?: RetryPolicy | undefined }
  | {
      type: 'callSubOrchestrator';
      name: string;
      instanceId: string | undefined;
      input: string | undefined;
      retry?: RetryPolicy | undefined;
    }
  | { type: 'createTimer'; fireAt: Date; canceled: boolean }
  | { type: 'waitForExternalEvent'; name: string }
  | { type: 'continueAsNew'; input: string | undefined }
  /** `callEntity` (a result comes back) or `signalEntity` (one-way); target is `@name@key`. */
  | { type: 'entityOperation'; signal: boolean; target: string; operation: string; input: string | undefined }
  | { type: 'unsupported'; what: string; consumesTaskId: boolean };

/** The engine's own activity that performs `callHttp` requests (the extension's name for it). */
export const HTTP_ACTIVITY = 'BuiltIn::HttpActivity';

/** Whether the SDK gives this action the next task id (its `sequenceNumber`). */
export const consumesTaskId = (a: Action): boolean =>
  a.type === 'callActivity' ||
  a.type === 'callSubOrchestrator' ||
  a.type === 'createTimer' ||
  a.type === 'entityOperation' ||
  (a.type === 'unsupported' && a.consumesTaskId);

export interface OrchestratorResult {
  isDone: boolean;
  /**
   * The actions new since the last episode (the SDK re-issues all of them on every
   * replay): leaves in the order the SDK numbered them, each issued action once.
   */
  actions: Action[];
  /** How many leaf actions the SDK issued in this execution so far. */
  actionCount: number;
  output: unknown;
  customStatus: unknown;
  /** Set when the orchestrator threw. */
  failure?: FailureInfo | undefined;
}

// The schemas are built with the first episode, not at host start (src/core/once.ts).
const retrySchema = once(() =>
  z
    .object({
      firstRetryIntervalInMilliseconds: z.number().positive(),
      maxNumberOfAttempts: z.number().int(),
      backoffCoefficient: z.number().positive().optional(),
      maxRetryIntervalInMilliseconds: z.number().optional(),
    })
    .transform((r): RetryPolicy => r),
);

/**
 * The SDK serialises an activity's input itself only when it is a string (its
 * `Utils.processInput`); everything else is a plain value. Normalise both to JSON text.
 */
const inputText = (v: unknown, preEncodedStrings: boolean): string | undefined => {
  if (v === undefined) return undefined;
  if (typeof v === 'string' && preEncodedStrings) return v;
  return JSON.stringify(v);
};

const leafSchema = once(() =>
  z.discriminatedUnion('actionType', [
    z.object({ actionType: z.literal(ActionType.CallActivity), functionName: z.string(), input: z.unknown().optional() }),
    z.object({
      actionType: z.literal(ActionType.CallActivityWithRetry),
      functionName: z.string(),
      input: z.unknown().optional(),
      retryOptions: retrySchema(),
    }),
    z.object({
      actionType: z.literal(ActionType.CallSubOrchestrator),
      functionName: z.string(),
      instanceId: z.string().optional().nullable(),
      input: z.unknown().optional(),
    }),
    z.object({
      actionType: z.literal(ActionType.CallSubOrchestratorWithRetry),
      functionName: z.string(),
      instanceId: z.string().optional().nullable(),
      input: z.unknown().optional(),
      retryOptions: retrySchema(),
    }),
    z.object({ actionType: z.literal(ActionType.ContinueAsNew), input: z.unknown().optional() }),
    z.object({
      actionType: z.literal(ActionType.CreateTimer),
      fireAt: z.union([z.date(), z.string().transform((s) => new Date(s))]),
      isCanceled: z.boolean().optional(),
    }),
    z.object({ actionType: z.literal(ActionType.WaitForExternalEvent), externalEventName: z.string() }),
    z.object({ actionType: z.literal(ActionType.CallEntity), instanceId: z.string().startsWith('@'), operation: z.string(), input: z.unknown().optional() }),
    z.object({ actionType: z.literal(ActionType.SignalEntity), instanceId: z.string().startsWith('@'), operation: z.string(), input: z.unknown().optional() }),
    z.object({
      actionType: z.literal(ActionType.CallHttp),
      httpRequest: z.object({
        method: z.string(),
        uri: z.string(),
        content: z.string().optional().nullable(),
        headers: z
          .record(z.string(), z.union([z.string(), z.array(z.string())]))
          .optional()
          .nullable(),
        tokenSource: z.unknown().optional(),
        asynchronousPatternEnabled: z.boolean().optional(),
      }),
    }),
  ]),
);

function toAction(raw: unknown): Action {
  const kind = (raw as { actionType?: unknown } | null)?.actionType;
  if (kind === ActionType.LockEntities || kind === ActionType.ReleaseEntities) {
    return { type: 'unsupported', what: 'entity locks', consumesTaskId: kind === ActionType.LockEntities };
  }
  const a = leafSchema().parse(raw);
  switch (a.actionType) {
    case ActionType.CallActivity:
      return { type: 'callActivity', name: a.functionName, input: inputText(a.input, true) };
    case ActionType.CallActivityWithRetry:
      return { type: 'callActivity', name: a.functionName, input: inputText(a.input, true), retry: a.retryOptions };
    case ActionType.CallSubOrchestrator:
      return {
        type: 'callSubOrchestrator',
        name: a.functionName,
        instanceId: a.instanceId ?? undefined,
        input: inputText(a.input, false),
      };
    case ActionType.CallSubOrchestratorWithRetry:
      return {
        type: 'callSubOrchestrator',
        name: a.functionName,
        instanceId: a.instanceId ?? undefined,
        input: inputText(a.input, false),
        retry: a.retryOptions,
      };
    case ActionType.ContinueAsNew:
      return { type: 'continueAsNew', input: inputText(a.input, true) };
    case ActionType.CreateTimer:
      return { type: 'createTimer', fireAt: a.fireAt, canceled: a.isCanceled ?? false };
    case ActionType.WaitForExternalEvent:
      return { type: 'waitForExternalEvent', name: a.externalEventName };
    case ActionType.CallEntity:
    case ActionType.SignalEntity:
      return {
        type: 'entityOperation',
        signal: a.actionType === ActionType.SignalEntity,
        target: a.instanceId,
        operation: a.operation,
        input: inputText(a.input, false),
      };
    case ActionType.CallHttp:
      if (a.httpRequest.tokenSource) return { type: 'unsupported', what: 'callHttp with a managed identity tokenSource', consumesTaskId: true };
      // The request runs as an activity of the engine's own (the extension does the same).
      return { type: 'callActivity', name: HTTP_ACTIVITY, input: JSON.stringify(a.httpRequest) };
  }
}

/** The property `tagActions` numbers action objects with, so that identity survives JSON. */
const TAG = '$lfAction';
const CONSUMES_ID = new Set<unknown>([
  ActionType.CallActivity,
  ActionType.CallActivityWithRetry,
  ActionType.CallSubOrchestrator,
  ActionType.CallSubOrchestratorWithRetry,
  ActionType.CreateTimer,
  ActionType.CallEntity,
  ActionType.CallHttp,
  ActionType.SignalEntity,
  ActionType.LockEntities,
]);

/**
 * Numbers the action objects of the SDK's answer in place, before it crosses a JSON
 * boundary (the host's return binding): a task yielded a second time is the same object
 * twice, and keeps one number, so `parseOrchestratorState` can tell it from a new call
 * with equal arguments.
 */
export function tagActions(state: unknown): unknown {
  let n = 0;
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (o[TAG] === undefined) o[TAG] = n++;
    visit(o['compoundActions']);
  };
  if (state !== null && typeof state === 'object') visit((state as { actions?: unknown }).actions);
  return state;
}

interface Leaves {
  leaves: unknown[];
  /** A task that was yielded again inside Task.all/Task.any after it was scheduled. */
  reyielded?: { taskId: number; what: string } | undefined;
}

/**
 * Depth-first leaves of the SDK's (possibly nested WhenAll/WhenAny) action lists, each
 * action once. The SDK numbers a task once however often it is yielded, but the Durable
 * extension (on Azure) schedules every leaf it is sent, so a task that reappears inside a
 * compound task gets a second id there and the compound receives another call's result.
 * Waiting for the same external event again is harmless (events have no id) and is kept
 * once; any other repeat is reported, so the orchestration fails instead.
 */
function leaves(raw: unknown): Leaves {
  const ids = new Map<unknown, number>();
  const out: unknown[] = [];
  let nextId = 0;
  let reyielded: Leaves['reyielded'];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) visit(n);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const o = node as { actionType?: unknown; compoundActions?: unknown; [TAG]?: unknown };
    if (o.actionType === ActionType.WhenAll || o.actionType === ActionType.WhenAny) {
      visit(o.compoundActions);
      return;
    }
    const key = o[TAG] ?? node;
    const seen = ids.get(key);
    if (seen !== undefined) {
      if (seen >= 0) reyielded ??= { taskId: seen, what: describe(node) };
      return;
    }
    ids.set(key, CONSUMES_ID.has(o.actionType) ? nextId++ : -1);
    out.push(node);
  };
  visit(raw);
  return { leaves: out, reyielded };
}

function describe(node: object): string {
  const o = node as { functionName?: unknown; operation?: unknown; actionType?: unknown };
  if (typeof o.functionName === 'string') return `'${o.functionName}'`;
  if (typeof o.operation === 'string') return `entity operation '${o.operation}'`;
  return o.actionType === ActionType.CreateTimer ? 'a timer' : `an action of type ${String(o.actionType)}`;
}

const stateSchema = once(() =>
  z.object({
    isDone: z.boolean(),
    actions: z.unknown(),
    output: z.unknown().optional(),
    customStatus: z.unknown().optional(),
    error: z.string().optional(),
  }),
);

const OUT_OF_PROC_LABEL = '\n\n$OutOfProcData$:';

/**
 * Parses what the SDK's orchestration handler returned. Only actions past `known` (those
 * the engine has not recorded yet) are validated: the rest were, in earlier episodes.
 */
export function parseOrchestratorState(value: unknown, known = 0): OrchestratorResult {
  const state = stateSchema().parse(typeof value === 'string' ? JSON.parse(value) : value);
  const { leaves: all, reyielded } = leaves(state.actions);
  if (reyielded !== undefined) {
    const message =
      `Non-deterministic orchestration: task ${reyielded.taskId} (${reyielded.what}) was yielded again inside Task.all or Task.any ` +
      'after it had been scheduled. On Azure the Durable extension schedules it a second time and the compound task gets another ' +
      "call's result; yield each task once and keep its result in a variable.";
    return {
      isDone: false,
      actions: [],
      actionCount: 0,
      output: undefined,
      customStatus: state.customStatus,
      failure: { message, type: 'NonDeterministicOrchestrationError' },
    };
  }
  return {
    isDone: state.isDone,
    actions: all.slice(known).map(toAction),
    actionCount: all.length,
    output: state.output,
    customStatus: state.customStatus,
  };
}

/**
 * Parses what the SDK's orchestration handler threw. An orchestrator that throws makes the
 * SDK throw `OrchestrationFailureError`, whose message ends with the orchestrator state as
 * JSON (the out-of-proc protocol); the user's error message is that state's `error`, and
 * `failureDetails` is there when a failed task caused it. Anything else is a crash of the
 * handler itself, reported with its own message and stack.
 */
export function parseOrchestratorFailure(err: unknown): OrchestratorResult {
  const message = err instanceof Error ? err.message : String(err);
  const at = message.indexOf(OUT_OF_PROC_LABEL);
  if (at < 0) {
    const stack = err instanceof Error ? err.stack : undefined;
    return { isDone: false, actions: [], actionCount: 0, output: undefined, customStatus: undefined, failure: { message, type: 'Error', details: stack } };
  }
  const state = failedStateSchema().safeParse(JSON.parse(message.slice(at + OUT_OF_PROC_LABEL.length)));
  const data = state.success ? state.data : {};
  const fd = data.failureDetails;
  return {
    isDone: false,
    actions: [],
    actionCount: 0,
    output: undefined,
    customStatus: data.customStatus,
    // The SDK's OrchestrationFailureError keeps the user's error stack; a failed task's own
    // details (type, stack) are in failureDetails.
    failure: {
      message: data.error ?? message.slice(0, at),
      type: fd?.ErrorType ?? (err instanceof Error ? errorType(err) : 'Error'),
      details: fd?.StackTrace ?? (err instanceof Error ? err.stack : undefined),
    },
  };
}

const failedStateSchema = once(() =>
  z.object({
    error: z.string().optional(),
    customStatus: z.unknown().optional(),
    failureDetails: z.object({ ErrorType: z.string().optional(), ErrorMessage: z.string().optional(), StackTrace: z.string().optional() }).optional(),
  }),
);

/** The original error's type: the SDK's wrapper keeps only its stack, whose first line names it. */
function errorType(err: Error): string {
  const m = /^([A-Za-z_$][\w$]*):/.exec(err.stack ?? '');
  return m?.[1] ?? err.name;
}
