import { z } from 'zod';
import type { RetryPolicy } from './history';

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
  | { type: 'unsupported'; what: string; consumesTaskId: boolean };

/** Whether the SDK gives this action the next task id (its `sequenceNumber`). */
export const consumesTaskId = (a: Action): boolean =>
  a.type === 'callActivity' ||
  a.type === 'callSubOrchestrator' ||
  a.type === 'createTimer' ||
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
  failure?: { message: string; details?: string | undefined } | undefined;
}

const retrySchema = z
  .object({
    firstRetryIntervalInMilliseconds: z.number().positive(),
    maxNumberOfAttempts: z.number().int(),
    backoffCoefficient: z.number().positive().optional(),
    maxRetryIntervalInMilliseconds: z.number().optional(),
  })
  .transform((r): RetryPolicy => r);

/**
 * The SDK serialises an activity's input itself only when it is a string (its
 * `Utils.processInput`); everything else is a plain value. Normalise both to JSON text.
 */
const inputText = (v: unknown, preEncodedStrings: boolean): string | undefined => {
  if (v === undefined) return undefined;
  if (typeof v === 'string' && preEncodedStrings) return v;
  return JSON.stringify(v);
};

const leafSchema = z.discriminatedUnion('actionType', [
  z.object({ actionType: z.literal(ActionType.CallActivity), functionName: z.string(), input: z.unknown().optional() }),
  z.object({
    actionType: z.literal(ActionType.CallActivityWithRetry),
    functionName: z.string(),
    input: z.unknown().optional(),
    retryOptions: retrySchema,
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
    retryOptions: retrySchema,
  }),
  z.object({ actionType: z.literal(ActionType.ContinueAsNew), input: z.unknown().optional() }),
  z.object({
    actionType: z.literal(ActionType.CreateTimer),
    fireAt: z.union([z.date(), z.string().transform((s) => new Date(s))]),
    isCanceled: z.boolean().optional(),
  }),
  z.object({ actionType: z.literal(ActionType.WaitForExternalEvent), externalEventName: z.string() }),
]);

function toAction(raw: unknown): Action {
  const kind = (raw as { actionType?: unknown } | null)?.actionType;
  if (kind === ActionType.CallEntity || kind === ActionType.CallHttp || kind === ActionType.SignalEntity) {
    const names: Record<number, string> = { 7: 'callEntity', 8: 'callHttp', 9: 'signalEntity' };
    return { type: 'unsupported', what: names[kind] ?? String(kind), consumesTaskId: true };
  }
  if (kind === ActionType.LockEntities || kind === ActionType.ReleaseEntities) {
    return { type: 'unsupported', what: 'entity locks', consumesTaskId: kind === ActionType.LockEntities };
  }
  const a = leafSchema.parse(raw);
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
  }
}

/**
 * Depth-first leaves of the SDK's (possibly nested WhenAll/WhenAny) action lists. A task
 * yielded again inside `Task.all` reappears as the same action object when the answer
 * arrives in-process; the SDK numbers it once, so it is kept once.
 */
function leaves(raw: unknown): unknown[] {
  const seen = new Set<unknown>();
  const out: unknown[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const n of node) visit(n);
      return;
    }
    if (node === null || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    const compound = node as { actionType?: unknown; compoundActions?: unknown };
    if (compound.actionType === ActionType.WhenAll || compound.actionType === ActionType.WhenAny) {
      visit(compound.compoundActions);
      return;
    }
    out.push(node);
  };
  visit(raw);
  return out;
}

const stateSchema = z.object({
  isDone: z.boolean(),
  actions: z.unknown(),
  output: z.unknown().optional(),
  customStatus: z.unknown().optional(),
  error: z.string().optional(),
});

const OUT_OF_PROC_LABEL = '\n\n$OutOfProcData$:';

/**
 * Parses what the SDK's orchestration handler returned. Only actions past `known` (those
 * the engine has not recorded yet) are validated: the rest were, in earlier episodes.
 */
export function parseOrchestratorState(value: unknown, known = 0): OrchestratorResult {
  const state = stateSchema.parse(typeof value === 'string' ? JSON.parse(value) : value);
  const all = leaves(state.actions);
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
    return { isDone: false, actions: [], actionCount: 0, output: undefined, customStatus: undefined, failure: { message, details: stack } };
  }
  const state = failedStateSchema.safeParse(JSON.parse(message.slice(at + OUT_OF_PROC_LABEL.length)));
  const data = state.success ? state.data : {};
  const fd = data.failureDetails;
  return {
    isDone: false,
    actions: [],
    actionCount: 0,
    output: undefined,
    customStatus: data.customStatus,
    failure: {
      message: data.error ?? message.slice(0, at),
      details: fd === undefined ? undefined : [fd.ErrorType, fd.ErrorMessage, fd.StackTrace].filter(Boolean).join(': '),
    },
  };
}

const failedStateSchema = z.object({
  error: z.string().optional(),
  customStatus: z.unknown().optional(),
  failureDetails: z
    .object({ ErrorType: z.string().optional(), ErrorMessage: z.string().optional(), StackTrace: z.string().optional() })
    .optional(),
});
