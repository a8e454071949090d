import type { OrchestratorResult } from './actions';
import { consumesTaskId } from './actions';
import { entityRequestId, type EntityRequest } from './entities';
import {
  completedTaskId,
  event,
  EventType,
  isTerminal,
  type CompletionEvent,
  type ExecutionStartedEvent,
  type FailureInfo,
  type HistoryEvent,
  type InboxEvent,
  type RetriedCall,
  type RetryMark,
  type RetryPolicy,
  type RuntimeStatus,
  type SubOrchestrationCompletedEvent,
  type SubOrchestrationFailedEvent,
} from './history';

/**
 * The runtime state of one orchestration execution is a fold over its history; an
 * episode is two pure steps around one run of the SDK:
 *   1. `admit`: choose which inbox events go into this episode and append them (with any
 *      retry bookkeeping the engine owes the SDK);
 *   2. `decide`: turn the SDK's answer into new history events and effects (work to
 *      schedule, messages to other instances).
 * The engine (engine.ts) only persists what these return and carries out the effects.
 */

/** A task the orchestrator is waiting on, keyed by its task id. */
export type OpenTask =
  | { kind: 'activity'; call: RetriedCall; retry?: RetryMark | undefined }
  | { kind: 'subOrchestration'; call: RetriedCall; retry?: RetryMark | undefined }
  | { kind: 'timer'; retryOf?: { retry: RetryMark; call: RetriedCall } | undefined };

export interface ReplayState {
  instanceId: string;
  executionId: string;
  name: string;
  input: string | undefined;
  parent: ExecutionStartedEvent['ParentInstance'];
  status: RuntimeStatus;
  /** Next task id the SDK will hand out (its `sequenceNumber`). */
  nextTaskId: number;
  /** SDK actions already turned into history, so the next episode's new ones are a suffix. */
  actionCount: number;
  open: Map<number, OpenTask>;
  output: string | undefined;
  failure: FailureInfo | undefined;
}

export function emptyState(instanceId: string): ReplayState {
  return {
    instanceId,
    executionId: '',
    name: '',
    input: undefined,
    parent: undefined,
    status: 'Pending',
    nextTaskId: 0,
    actionCount: 0,
    open: new Map(),
    output: undefined,
    failure: undefined,
  };
}

/** Applies one event to the state, in place (the fold step; O(1)). */
export function applyEvent(s: ReplayState, e: HistoryEvent): void {
  switch (e.EventType) {
    case EventType.ExecutionStarted:
      s.executionId = e.OrchestrationInstance.ExecutionId;
      s.name = e.Name;
      s.input = e.Input;
      s.parent = e.ParentInstance;
      s.status = 'Running';
      return;
    case EventType.ExecutionCompleted:
      s.status = e.OrchestrationStatus;
      s.output = e.Result;
      s.failure = e.FailureDetails;
      return;
    case EventType.ExecutionTerminated:
      s.status = 'Terminated';
      s.output = e.Input;
      return;
    case EventType.ExecutionSuspended:
      s.status = 'Suspended';
      return;
    case EventType.ExecutionResumed:
      s.status = 'Running';
      return;
    case EventType.TaskScheduled:
      s.open.set(e.EventId, { kind: 'activity', call: { kind: 'activity', name: e.Name, input: e.Input }, retry: e.Retry });
      s.nextTaskId = Math.max(s.nextTaskId, e.EventId + 1);
      return;
    case EventType.SubOrchestrationInstanceCreated:
      s.open.set(e.EventId, {
        kind: 'subOrchestration',
        call: { kind: 'subOrchestration', name: e.Name, instanceId: e.InstanceId, input: e.Input },
        retry: e.Retry,
      });
      s.nextTaskId = Math.max(s.nextTaskId, e.EventId + 1);
      return;
    case EventType.TimerCreated:
      s.open.set(e.EventId, { kind: 'timer', retryOf: e.RetryOf && { retry: e.RetryOf.retry, call: e.RetryOf.call } });
      s.nextTaskId = Math.max(s.nextTaskId, e.EventId + 1);
      return;
    case EventType.EventSent:
      s.nextTaskId = Math.max(s.nextTaskId, e.EventId + 1);
      return;
    case EventType.OrchestratorCompleted:
      s.actionCount = e.ActionCount;
      return;
    case EventType.TaskCompleted:
    case EventType.TaskFailed:
    case EventType.SubOrchestrationInstanceCompleted:
    case EventType.SubOrchestrationInstanceFailed:
    case EventType.TimerFired:
      s.open.delete(completedTaskId(e) as number);
      return;
    default:
      return;
  }
}

export function foldHistory(instanceId: string, events: readonly HistoryEvent[]): ReplayState {
  const s = emptyState(instanceId);
  for (const e of events) applyEvent(s, e);
  return s;
}

/** Work the engine must do once an episode's events are committed. */
export type Effect =
  | { kind: 'scheduleActivity'; taskId: number; name: string; input: string | undefined }
  | { kind: 'scheduleTimer'; taskId: number; fireAt: Date }
  | { kind: 'startSubOrchestration'; taskId: number; name: string; instanceId: string; input: string | undefined }
  | { kind: 'notifyParent'; parentInstanceId: string; event: SubOrchestrationCompletedEvent | SubOrchestrationFailedEvent }
  | { kind: 'continueAsNew'; input: string | undefined }
  /** An entity operation to put in the target entity's inbox. */
  | { kind: 'sendEntity'; target: string; request: EntityRequest }
  /** The instance reached a terminal state: cancel its pending work. */
  | { kind: 'finished' };

export interface Admission {
  /** Events to append to history, starting with OrchestratorStarted when the SDK must run. */
  events: HistoryEvent[];
  /** Inbox events taken by this episode (appended, or dropped as stale). */
  consumed: InboxEvent[];
  effects: Effect[];
  /** Whether the orchestrator must be replayed for this episode. */
  runOrchestrator: boolean;
}

const isControl = (e: InboxEvent): boolean =>
  e.EventType === EventType.ExecutionTerminated || e.EventType === EventType.ExecutionSuspended || e.EventType === EventType.ExecutionResumed;

export function retryDelayMs(policy: RetryPolicy, failedAttempt: number): number {
  const raw = policy.firstRetryIntervalInMilliseconds * Math.pow(policy.backoffCoefficient ?? 1, failedAttempt - 1);
  const cap = policy.maxRetryIntervalInMilliseconds;
  return cap !== undefined && cap > 0 ? Math.min(raw, cap) : raw;
}

/**
 * The SDK drives retries itself: when a retried call fails it takes the next task id for
 * a retry timer, and when that timer fires (attempts left) the next id again for the new
 * attempt; after the last attempt it still waits for the timer, then fails the task. The
 * engine must hand out the same ids, so it appends the retry timer / new attempt right
 * after the event that causes it, admits at most one such event per episode, and puts it
 * first: then no user code has run in this episode yet and the ids line up.
 */
function retryFollowUp(s: ReplayState, e: CompletionEvent, now: Date, out: { events: HistoryEvent[]; effects: Effect[] }): void {
  const taskId = completedTaskId(e) as number;
  const task = s.open.get(taskId);
  if (task === undefined) return;
  if ((e.EventType === EventType.TaskFailed || e.EventType === EventType.SubOrchestrationInstanceFailed) && task.kind !== 'timer' && task.retry) {
    const { retry } = task;
    const delay = retry.attempt >= retry.policy.maxNumberOfAttempts ? 0 : retryDelayMs(retry.policy, retry.attempt);
    const fireAt = new Date(now.getTime() + delay);
    const id = s.nextTaskId;
    out.events.push(event(EventType.TimerCreated, now, { FireAt: fireAt.toISOString(), RetryOf: { taskId, retry, call: task.call } }, id));
    out.effects.push({ kind: 'scheduleTimer', taskId: id, fireAt });
    return;
  }
  if (e.EventType === EventType.TimerFired && task.kind === 'timer' && task.retryOf) {
    const { retry, call } = task.retryOf;
    if (retry.attempt >= retry.policy.maxNumberOfAttempts) return;
    const id = s.nextTaskId;
    const next: RetryMark = { policy: retry.policy, attempt: retry.attempt + 1 };
    if (call.kind === 'activity') {
      out.events.push(event(EventType.TaskScheduled, now, { Name: call.name, Input: call.input, Retry: next }, id));
      out.effects.push({ kind: 'scheduleActivity', taskId: id, name: call.name, input: call.input });
    } else {
      out.events.push(
        event(EventType.SubOrchestrationInstanceCreated, now, { Name: call.name, InstanceId: call.instanceId, Input: call.input, Retry: next }, id),
      );
      out.effects.push({ kind: 'startSubOrchestration', taskId: id, name: call.name, instanceId: call.instanceId, input: call.input });
    }
  }
}

const isRetryEvent = (s: ReplayState, e: InboxEvent): boolean => {
  const id = completedTaskId(e);
  if (id === undefined) return false;
  const task = s.open.get(id);
  if (task === undefined) return false;
  return task.kind === 'timer' ? task.retryOf !== undefined : task.retry !== undefined;
};

/**
 * Chooses the inbox events for one episode and appends them. The state is not changed
 * here: the engine folds the returned events in once they are committed.
 */
export function admit(s: ReplayState, inbox: readonly InboxEvent[], now: Date): Admission {
  const out: Admission = { events: [], consumed: [], effects: [], runOrchestrator: false };
  if (isTerminal(s.status)) {
    out.consumed = [...inbox];
    return out;
  }
  let suspended = s.status === 'Suspended';
  for (const e of inbox) {
    if (!isControl(e)) continue;
    out.consumed.push(e);
    if (e.EventType === EventType.ExecutionTerminated) {
      out.events.push(e);
      out.consumed = [...inbox];
      if (s.parent) out.effects.push(parentNotice(s, { message: `terminated: ${e.Input ?? ''}` }, undefined, now));
      out.effects.push({ kind: 'finished' });
      return out;
    }
    if (e.EventType === EventType.ExecutionSuspended && !suspended) {
      suspended = true;
      out.events.push(e);
    } else if (e.EventType === EventType.ExecutionResumed && suspended) {
      suspended = false;
      out.events.push(e);
    }
  }
  if (suspended) return out;

  const started = inbox.find((e) => e.EventType === EventType.ExecutionStarted);
  if (s.status === 'Pending' && started === undefined) return out;
  const body: HistoryEvent[] = [];
  let retryAdmitted = false;
  let startAdmitted = false;
  const open = new Set(s.open.keys());
  for (const e of inbox) {
    if (isControl(e)) continue;
    if (e.EventType === EventType.ExecutionStarted) {
      if (s.status !== 'Pending' || e !== started) {
        out.consumed.push(e);
        continue;
      }
      out.consumed.push(e);
      body.unshift(e);
      startAdmitted = true;
      continue;
    }
    const id = completedTaskId(e);
    if (id !== undefined && !open.has(id)) {
      out.consumed.push(e); // stale: the task completed already or belongs to an earlier execution
      continue;
    }
    if (isRetryEvent(s, e)) {
      if (retryAdmitted) continue; // next episode
      retryAdmitted = true;
      const followUp = { events: [] as HistoryEvent[], effects: out.effects };
      retryFollowUp(s, e as CompletionEvent, now, followUp);
      body.splice(startAdmitted ? 1 : 0, 0, e, ...followUp.events);
    } else {
      body.push(e);
    }
    if (id !== undefined) open.delete(id);
    out.consumed.push(e);
  }
  if (body.length === 0) return out;
  out.events.push(event(EventType.OrchestratorStarted, now, {}), ...body);
  out.runOrchestrator = true;
  return out;
}

function parentNotice(s: ReplayState, failure: FailureInfo | undefined, result: string | undefined, now: Date): Effect {
  const parent = s.parent as NonNullable<ReplayState['parent']>;
  const ev =
    failure === undefined
      ? event(EventType.SubOrchestrationInstanceCompleted, now, { TaskScheduledId: parent.TaskScheduledId, Result: result ?? 'null' })
      : event(EventType.SubOrchestrationInstanceFailed, now, {
          TaskScheduledId: parent.TaskScheduledId,
          Reason: failure.message,
          Details: failure.details ?? '',
          FailureDetails: { ErrorType: failure.type ?? 'Error', ErrorMessage: failure.message, StackTrace: failure.details },
        });
  return { kind: 'notifyParent', parentInstanceId: parent.InstanceId, event: ev };
}

export interface Decision {
  events: HistoryEvent[];
  effects: Effect[];
  customStatus: string | undefined;
}

/**
 * Turns the SDK's answer (its actions past `s.actionCount`) into history and effects. `s`
 * must already include the admitted events (the SDK saw them), so `s.nextTaskId` is where
 * the new actions' ids start.
 */
export function decide(s: ReplayState, result: OrchestratorResult, now: Date): Decision {
  const events: HistoryEvent[] = [];
  const effects: Effect[] = [];
  const customStatus = result.customStatus === undefined ? undefined : JSON.stringify(result.customStatus);
  const fail = (failure: FailureInfo): Decision => {
    events.push(
      event(EventType.OrchestratorCompleted, now, { ActionCount: s.actionCount }),
      event(EventType.ExecutionCompleted, now, {
        OrchestrationStatus: 'Failed',
        Result: JSON.stringify(`Orchestrator function '${s.name}' failed: ${failure.message}`),
        FailureDetails: failure,
      }),
    );
    const notices = s.parent ? [parentNotice(s, failure, undefined, now)] : [];
    return { events, effects: [...notices, { kind: 'finished' }], customStatus };
  };
  if (result.failure) return fail(result.failure);

  let nextId = s.nextTaskId;
  let continueAsNew: { input: string | undefined } | undefined;
  for (const a of result.actions) {
    const id = consumesTaskId(a) ? nextId++ : -1;
    switch (a.type) {
      case 'callActivity':
        events.push(event(EventType.TaskScheduled, now, { Name: a.name, Input: a.input, Retry: a.retry && { policy: a.retry, attempt: 1 } }, id));
        effects.push({ kind: 'scheduleActivity', taskId: id, name: a.name, input: a.input });
        break;
      case 'callSubOrchestrator': {
        const instanceId = a.instanceId ?? `${s.instanceId}:${id}`;
        events.push(
          event(
            EventType.SubOrchestrationInstanceCreated,
            now,
            { Name: a.name, InstanceId: instanceId, Input: a.input, Retry: a.retry && { policy: a.retry, attempt: 1 } },
            id,
          ),
        );
        effects.push({ kind: 'startSubOrchestration', taskId: id, name: a.name, instanceId, input: a.input });
        break;
      }
      case 'createTimer':
        events.push(event(EventType.TimerCreated, now, { FireAt: a.fireAt.toISOString() }, id));
        effects.push({ kind: 'scheduleTimer', taskId: id, fireAt: a.fireAt });
        break;
      case 'waitForExternalEvent':
        break;
      case 'entityOperation': {
        // The SDK reads the request id from EventSent and waits for an EventRaised of that name.
        const request: EntityRequest = {
          id: entityRequestId(s.executionId, id),
          op: a.operation,
          signal: a.signal,
          input: a.input,
          parent: a.signal ? undefined : s.instanceId,
        };
        events.push(event(EventType.EventSent, now, { InstanceId: a.target, Name: a.operation, Input: JSON.stringify(request) }, id));
        effects.push({ kind: 'sendEntity', target: a.target, request });
        break;
      }
      case 'continueAsNew':
        continueAsNew = { input: a.input };
        break;
      case 'unsupported':
        return fail({ message: `${a.what} is not supported by the embedded durable engine` });
    }
  }
  events.push(event(EventType.OrchestratorCompleted, now, { ActionCount: result.actionCount }));
  if (!result.isDone) return { events, effects, customStatus };

  if (continueAsNew) {
    // Work issued together with continue-as-new belongs to the ending execution: drop it.
    const kept: HistoryEvent[] = events.filter((e) => e.EventType === EventType.OrchestratorCompleted);
    kept.push(event(EventType.ExecutionCompleted, now, { OrchestrationStatus: 'ContinuedAsNew', Result: undefined }));
    return { events: kept, effects: [{ kind: 'continueAsNew', input: continueAsNew.input }], customStatus };
  }
  const output = result.output === undefined ? undefined : JSON.stringify(result.output);
  events.push(event(EventType.ExecutionCompleted, now, { OrchestrationStatus: 'Completed', Result: output }));
  if (s.parent) effects.push(parentNotice(s, undefined, output, now));
  effects.push({ kind: 'finished' });
  return { events, effects, customStatus };
}
