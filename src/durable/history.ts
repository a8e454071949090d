/**
 * Orchestration history events, in the wire shape the durable-functions SDK replays
 * (PascalCase fields, numeric `EventType` from the SDK's `HistoryEventType`), as one
 * typed union. The engine appends these and never edits them; its own bookkeeping
 * (retry attempts, how many SDK actions were consumed) rides in extra fields the SDK
 * ignores, so the whole runtime state of an instance is a fold over its history.
 */
export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
  ContinueAsNew: 16,
  GenericEvent: 17,
  HistoryState: 18,
  ExecutionSuspended: 19,
  ExecutionResumed: 20,
} as const;
export type EventTypeName = keyof typeof EventType;

export const RuntimeStatus = ['Pending', 'Running', 'Completed', 'ContinuedAsNew', 'Failed', 'Canceled', 'Terminated', 'Suspended'] as const;
export type RuntimeStatus = (typeof RuntimeStatus)[number];
export const isTerminal = (s: RuntimeStatus): boolean => s === 'Completed' || s === 'Failed' || s === 'Terminated' || s === 'Canceled';

/** Retry policy as the SDK's `RetryOptions` carries it. */
export interface RetryPolicy {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number | undefined;
  maxRetryIntervalInMilliseconds?: number | undefined;
}

/** Engine bookkeeping for one attempt of a call with retries (ignored by the SDK). */
export interface RetryMark {
  policy: RetryPolicy;
  /** 1-based attempt number of the call this event belongs to. */
  attempt: number;
}

/** Failure details shown in status and handed to the parent of a sub-orchestration. */
export interface FailureInfo {
  message: string;
  /** The error's type (`Error`, `TypeError`, ...), when known. */
  type?: string | undefined;
  /** The stack trace: shown in status as `failureDetails.stackTrace`, never in `output`. */
  details?: string | undefined;
}

/** The SDK's wire form of a task failure (`FailureDetails` on TaskFailed events). */
export interface WireFailureDetails {
  ErrorType: string;
  ErrorMessage: string;
  StackTrace?: string | undefined;
}

interface Base {
  EventId: number;
  IsPlayed: boolean;
  Timestamp: string;
}

export interface ExecutionStartedEvent extends Base {
  EventType: typeof EventType.ExecutionStarted;
  Name: string;
  /** JSON text of the input, or undefined when none was given. */
  Input: string | undefined;
  Version?: string | undefined;
  OrchestrationInstance: { InstanceId: string; ExecutionId: string };
  ParentInstance?: { InstanceId: string; TaskScheduledId: number; Name: string } | undefined;
}
export interface ExecutionCompletedEvent extends Base {
  EventType: typeof EventType.ExecutionCompleted;
  OrchestrationStatus: 'Completed' | 'Failed' | 'ContinuedAsNew';
  Result: string | undefined;
  FailureDetails?: FailureInfo | undefined;
}
export interface ExecutionTerminatedEvent extends Base {
  EventType: typeof EventType.ExecutionTerminated;
  Input: string | undefined;
}
export interface ExecutionSuspendedEvent extends Base {
  EventType: typeof EventType.ExecutionSuspended;
  Reason: string | undefined;
}
export interface ExecutionResumedEvent extends Base {
  EventType: typeof EventType.ExecutionResumed;
  Reason: string | undefined;
}
export interface TaskScheduledEvent extends Base {
  EventType: typeof EventType.TaskScheduled;
  Name: string;
  Input: string | undefined;
  Retry?: RetryMark | undefined;
}
export interface TaskCompletedEvent extends Base {
  EventType: typeof EventType.TaskCompleted;
  TaskScheduledId: number;
  Result: string;
}
export interface TaskFailedEvent extends Base {
  EventType: typeof EventType.TaskFailed;
  TaskScheduledId: number;
  Reason: string;
  Details: string;
  /** When present the SDK raises a TaskFailedError from it (message without the stack). */
  FailureDetails?: WireFailureDetails | undefined;
}
export interface SubOrchestrationCreatedEvent extends Base {
  EventType: typeof EventType.SubOrchestrationInstanceCreated;
  Name: string;
  InstanceId: string;
  Input: string | undefined;
  Retry?: RetryMark | undefined;
}
export interface SubOrchestrationCompletedEvent extends Base {
  EventType: typeof EventType.SubOrchestrationInstanceCompleted;
  TaskScheduledId: number;
  Result: string;
}
export interface SubOrchestrationFailedEvent extends Base {
  EventType: typeof EventType.SubOrchestrationInstanceFailed;
  TaskScheduledId: number;
  Reason: string;
  Details: string;
  FailureDetails?: WireFailureDetails | undefined;
}
export interface TimerCreatedEvent extends Base {
  EventType: typeof EventType.TimerCreated;
  FireAt: string;
  /** Set when the engine made this timer to wait between attempts of a call with retries. */
  RetryOf?: { taskId: number; retry: RetryMark; call: RetriedCall } | undefined;
}
export interface TimerFiredEvent extends Base {
  EventType: typeof EventType.TimerFired;
  TimerId: number;
  FireAt: string;
}
export interface OrchestratorStartedEvent extends Base {
  EventType: typeof EventType.OrchestratorStarted;
}
export interface OrchestratorCompletedEvent extends Base {
  EventType: typeof EventType.OrchestratorCompleted;
  /** How many SDK actions the engine has consumed so far in this execution. */
  ActionCount: number;
}
export interface EventRaisedEvent extends Base {
  EventType: typeof EventType.EventRaised;
  Name: string;
  Input: string | undefined;
}
/** A message the orchestration sent (an entity operation); the SDK reads its request id. */
export interface EventSentEvent extends Base {
  EventType: typeof EventType.EventSent;
  InstanceId: string;
  Name: string;
  Input: string;
}

export type HistoryEvent =
  | ExecutionStartedEvent
  | ExecutionCompletedEvent
  | ExecutionTerminatedEvent
  | ExecutionSuspendedEvent
  | ExecutionResumedEvent
  | TaskScheduledEvent
  | TaskCompletedEvent
  | TaskFailedEvent
  | SubOrchestrationCreatedEvent
  | SubOrchestrationCompletedEvent
  | SubOrchestrationFailedEvent
  | TimerCreatedEvent
  | TimerFiredEvent
  | OrchestratorStartedEvent
  | OrchestratorCompletedEvent
  | EventRaisedEvent
  | EventSentEvent;

/** What a retried call re-issues on its next attempt. */
export type RetriedCall =
  { kind: 'activity'; name: string; input: string | undefined } | { kind: 'subOrchestration'; name: string; instanceId: string; input: string | undefined };

/** Events that arrive from outside an episode (the instance's inbox). */
export type InboxEvent =
  | ExecutionStartedEvent
  | ExecutionTerminatedEvent
  | ExecutionSuspendedEvent
  | ExecutionResumedEvent
  | TaskCompletedEvent
  | TaskFailedEvent
  | SubOrchestrationCompletedEvent
  | SubOrchestrationFailedEvent
  | TimerFiredEvent
  | EventRaisedEvent;

/** Completion events, keyed by the task id they complete. */
export type CompletionEvent = TaskCompletedEvent | TaskFailedEvent | SubOrchestrationCompletedEvent | SubOrchestrationFailedEvent | TimerFiredEvent;

export function completedTaskId(e: HistoryEvent): number | undefined {
  switch (e.EventType) {
    case EventType.TaskCompleted:
    case EventType.TaskFailed:
    case EventType.SubOrchestrationInstanceCompleted:
    case EventType.SubOrchestrationInstanceFailed:
      return e.TaskScheduledId;
    case EventType.TimerFired:
      return e.TimerId;
    default:
      return undefined;
  }
}

type Fields<E extends HistoryEvent> = Omit<E, 'EventType' | 'EventId' | 'IsPlayed' | 'Timestamp'>;

/** The last timestamp formatted: an episode stamps all its events (a fan-out's thousand) with one
 * time, and completions that arrive within a millisecond share one, so one string serves them. */
let lastStamp = { ms: NaN, iso: '' };
const isoOf = (at: Date): string => {
  const ms = at.getTime();
  if (ms !== lastStamp.ms) lastStamp = { ms, iso: at.toISOString() };
  return lastStamp.iso;
};

/** Builds an event; `EventId` is the task id for scheduling events, -1 otherwise. */
export function event<T extends HistoryEvent['EventType']>(
  type: T,
  at: Date,
  fields: Fields<Extract<HistoryEvent, { EventType: T }>>,
  eventId = -1,
): Extract<HistoryEvent, { EventType: T }> {
  return { EventType: type, EventId: eventId, IsPlayed: false, Timestamp: isoOf(at), ...fields } as Extract<HistoryEvent, { EventType: T }>;
}

/** JSON text for a value handed to or from user code; `undefined` stays absent. */
export const toJsonText = (value: unknown): string | undefined => (value === undefined ? undefined : JSON.stringify(value));
export const fromJsonText = (text: string | undefined | null): unknown => (text === undefined || text === null || text === '' ? undefined : JSON.parse(text));

export const eventTypeName = (t: number): string => (Object.keys(EventType) as EventTypeName[]).find((k) => EventType[k] === t) ?? String(t);
