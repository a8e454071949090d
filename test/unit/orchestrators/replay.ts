/**
 * Replays orchestrators through the durable-functions SDK's own orchestrator handler (the
 * one `df.app.orchestration` registers), with hand-built histories in the extension's wire
 * format: the test harness stands where the Durable extension stands. It appends the
 * history events a backend would (TaskScheduled, TaskCompleted, TimerFired, EventRaised,
 * ...) and replays the whole history from the start after every event, so each step is a
 * real replay. Activities and sub-orchestrations are stubs; time is virtual.
 *
 * It also refuses an orchestrator that puts an already scheduled task into a second
 * Task.any/all (azure-functions-durable-js#574: the extension would schedule it again).
 */
import { DummyOrchestrationContext, type OrchestrationContext, type Task } from 'durable-functions';
import { EventType } from '../../../src/durable/history';

export type Orchestration = (context: OrchestrationContext) => Generator<Task, unknown, unknown>;

interface OrchestratorStateLike {
  isDone: boolean;
  actions: unknown[][];
  output?: unknown;
  error?: string;
  customStatus?: unknown;
}
// The SDK's handler factory (what df.app.orchestration registers); not in its public types.
const { createOrchestrator } = require('durable-functions/lib/src/util/testingUtils') as {
  createOrchestrator(fn: Orchestration): (trigger: unknown, context: unknown) => Promise<OrchestratorStateLike>;
};

// History event types: the engine's own table (durable-js HistoryEventType numbers, as DTFx).
export { EventType };
const ActionType = { CallActivity: 0, CallSubOrchestrator: 2, CreateTimer: 5, WaitForExternalEvent: 6, WhenAny: 11, WhenAll: 12 } as const;

export type HistoryEvent = { EventType: number; EventId: number; IsPlayed: boolean; Timestamp: string } & Record<string, unknown>;

const ev = (type: number, at: number, fields: Record<string, unknown> = {}, eventId = -1): HistoryEvent => ({
  EventType: type,
  EventId: eventId,
  IsPlayed: false,
  Timestamp: new Date(at).toISOString(),
  ...fields,
});

/** Builders for hand-written histories. */
export const h = {
  orchestratorStarted: (at: number) => ev(EventType.OrchestratorStarted, at),
  orchestratorCompleted: (at: number) => ev(EventType.OrchestratorCompleted, at),
  executionStarted: (at: number, name: string, input: unknown) => ev(EventType.ExecutionStarted, at, { Name: name, Input: JSON.stringify(input) }),
  taskScheduled: (at: number, seq: number, name: string, input: unknown) => ev(EventType.TaskScheduled, at, { Name: name, Input: JSON.stringify(input) }, seq),
  taskCompleted: (at: number, seq: number, result: unknown) =>
    ev(EventType.TaskCompleted, at, { TaskScheduledId: seq, Result: JSON.stringify(result ?? null) }),
  taskFailed: (at: number, seq: number, reason: string) => ev(EventType.TaskFailed, at, { TaskScheduledId: seq, Reason: reason, Details: reason }),
  subCreated: (at: number, seq: number, name: string, instanceId: string, input: unknown) =>
    ev(EventType.SubOrchestrationInstanceCreated, at, { Name: name, InstanceId: instanceId, Input: JSON.stringify(input) }, seq),
  subCompleted: (at: number, seq: number, result: unknown) =>
    ev(EventType.SubOrchestrationInstanceCompleted, at, { TaskScheduledId: seq, Result: JSON.stringify(result) }),
  subFailed: (at: number, seq: number, reason: string) =>
    ev(EventType.SubOrchestrationInstanceFailed, at, { TaskScheduledId: seq, Reason: reason, Details: reason }),
  timerCreated: (at: number, seq: number, fireAt: number) => ev(EventType.TimerCreated, at, { FireAt: new Date(fireAt).toISOString() }, seq),
  timerFired: (at: number, seq: number, fireAt: number) => ev(EventType.TimerFired, at, { TimerId: seq, FireAt: new Date(fireAt).toISOString() }),
  eventRaised: (at: number, name: string, data: unknown) => ev(EventType.EventRaised, at, { Name: name, Input: JSON.stringify(data) }),
};

export interface ReplayResult {
  state: OrchestratorStateLike;
  /** Actions that schedule something (activity, sub-orchestration, timer), in sequence order. */
  scheduled: ScheduledAction[];
  failed?: string;
}

export type ScheduledAction =
  | { kind: 'activity'; seq: number; name: string; input: unknown }
  | { kind: 'sub'; seq: number; name: string; instanceId: string; input: unknown }
  | { kind: 'timer'; seq: number; fireAt: number; canceled: boolean };

/** One replay of `history` through the SDK's handler. */
export async function replay(fn: Orchestration, instanceId: string, input: unknown, history: HistoryEvent[]): Promise<ReplayResult> {
  const handler = createOrchestrator(fn);
  const context = new DummyOrchestrationContext('test', 'invocation', () => undefined);
  const trigger = {
    history: JSON.parse(JSON.stringify(history)) as unknown, // what crosses the wire
    input,
    instanceId,
    isReplaying: false,
    parentInstanceId: '',
    upperSchemaVersion: 3, // ReplaySchema.V4, what current extensions negotiate
    longRunningTimerIntervalDuration: '3.00:00:00',
    maximumShortTimerDuration: '6.00:00:00',
    defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
  };
  let state: OrchestratorStateLike;
  let failed: string | undefined;
  try {
    state = await handler(trigger, context);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const marker = message.indexOf('$OutOfProcData$:');
    if (marker < 0) throw err;
    state = JSON.parse(message.slice(marker + '$OutOfProcData$:'.length)) as OrchestratorStateLike;
    failed = message.slice(0, marker).trim();
  }
  return { state, scheduled: scheduledActions(state.actions), ...(failed !== undefined && { failed }) };
}

function scheduledActions(actions: unknown[][]): ScheduledAction[] {
  const seen = new Set<object>();
  const out: ScheduledAction[] = [];
  const visit = (a: Record<string, unknown>) => {
    const type = a['actionType'];
    if (type === ActionType.WhenAny || type === ActionType.WhenAll) {
      for (const c of a['compoundActions'] as Record<string, unknown>[]) visit(c);
      return;
    }
    if (type === ActionType.WaitForExternalEvent) return;
    if (seen.has(a)) throw new Error(`an already scheduled ${JSON.stringify(a)} was put into a Task.any/all again (durable-js #574)`);
    seen.add(a);
    const seq = out.length;
    if (type === ActionType.CallActivity) out.push({ kind: 'activity', seq, name: a['functionName'] as string, input: a['input'] });
    else if (type === ActionType.CallSubOrchestrator)
      out.push({ kind: 'sub', seq, name: a['functionName'] as string, instanceId: a['instanceId'] as string, input: a['input'] });
    else if (type === ActionType.CreateTimer)
      out.push({ kind: 'timer', seq, fireAt: new Date(a['fireAt'] as string | Date).getTime(), canceled: a['isCanceled'] === true });
    else throw new Error(`unexpected action ${JSON.stringify(a)}`);
  };
  for (const batch of actions) for (const a of batch) visit(a as Record<string, unknown>);
  return out;
}

// ---------------------------------------------------------------------------------------
// A small driver: schedules what the orchestrator asks for, answers from stubs, advances
// virtual time, and replays after every delivered event.

export interface Driver {
  /** Raise an event on the orchestration `afterSeconds` from now (virtual time). */
  raise(name: string, data: unknown, afterSeconds?: number): void;
  readonly now: number;
}
export type ActivityStub = (input: unknown, driver: Driver) => unknown;
export type SubStub = (input: unknown, instanceId: string, driver: Driver) => { afterSeconds: number; result?: unknown; error?: string };

/** Types a stub's input (the harness hands over whatever the orchestrator scheduled). */
export const stub =
  <I>(fn: (input: I, driver: Driver) => unknown): ActivityStub =>
  (input, driver) =>
    fn(input as I, driver);
export const subStub =
  <I>(fn: (input: I, instanceId: string, driver: Driver) => ReturnType<SubStub>): SubStub =>
  (input, instanceId, driver) =>
    fn(input as I, instanceId, driver);

export interface Scenario {
  name: string;
  instanceId: string;
  input: unknown;
  start?: number;
  activities: Record<string, ActivityStub>;
  subOrchestrations?: Record<string, SubStub>;
  events?: { atSeconds: number; name: string; data: unknown }[];
  maxSteps?: number;
}

export interface Run {
  output: unknown;
  failed?: string;
  done: boolean;
  history: HistoryEvent[];
  /** Everything scheduled, with the virtual time it was scheduled at. */
  calls: (ScheduledAction & { at: number })[];
  statuses: unknown[];
  end: number;
}

interface Pending {
  at: number;
  order: number;
  event: HistoryEvent;
}

export async function drive(fn: Orchestration, scenario: Scenario): Promise<Run> {
  let now = scenario.start ?? Date.parse('2026-01-01T00:00:00Z');
  let order = 0;
  const queue: Pending[] = [];
  const push = (at: number, event: HistoryEvent) => queue.push({ at, order: order++, event });
  const driver: Driver = {
    raise: (name, data, afterSeconds = 0) => push(now + afterSeconds * 1000, h.eventRaised(now + afterSeconds * 1000, name, data)),
    get now() {
      return now;
    },
  };
  for (const e of scenario.events ?? []) push(now + e.atSeconds * 1000, h.eventRaised(now + e.atSeconds * 1000, e.name, e.data));

  const history: HistoryEvent[] = [h.orchestratorStarted(now), h.executionStarted(now, scenario.name, scenario.input)];
  const calls: Run['calls'] = [];
  const statuses: unknown[] = [];
  let known = 0;
  for (let step = 0; step < (scenario.maxSteps ?? 2000); step++) {
    const { state, scheduled, failed } = await replay(fn, scenario.instanceId, scenario.input, history);
    for (const prior of calls) {
      const again = scheduled[prior.seq];
      if (again === undefined || again.kind !== prior.kind) throw new Error(`non-deterministic replay at sequence ${prior.seq}`);
    }
    const fresh = scheduled.slice(known);
    known = scheduled.length;
    for (const action of fresh) {
      calls.push({ ...action, at: now });
      if (action.kind === 'activity') {
        history.push(h.taskScheduled(now, action.seq, action.name, action.input));
        const stub = scenario.activities[action.name];
        if (stub === undefined) throw new Error(`no stub for activity ${action.name}`);
        try {
          push(now, h.taskCompleted(now, action.seq, stub(action.input, driver)));
        } catch (err) {
          push(now, h.taskFailed(now, action.seq, err instanceof Error ? err.message : String(err)));
        }
      } else if (action.kind === 'sub') {
        history.push(h.subCreated(now, action.seq, action.name, action.instanceId, action.input));
        const stub = scenario.subOrchestrations?.[action.name];
        if (stub === undefined) throw new Error(`no stub for sub-orchestration ${action.name}`);
        const outcome = stub(action.input, action.instanceId, driver);
        const at = now + outcome.afterSeconds * 1000;
        push(at, outcome.error !== undefined ? h.subFailed(at, action.seq, outcome.error) : h.subCompleted(at, action.seq, outcome.result));
      } else {
        history.push(h.timerCreated(now, action.seq, action.fireAt));
        push(action.fireAt, h.timerFired(action.fireAt, action.seq, action.fireAt));
      }
    }
    history.push(h.orchestratorCompleted(now));
    if (state.customStatus !== undefined) statuses.push(state.customStatus);
    if (state.isDone || failed !== undefined) {
      return { output: state.output, done: state.isDone, history, calls, statuses, end: now, ...(failed !== undefined && { failed }) };
    }
    queue.sort((a, b) => a.at - b.at || a.order - b.order);
    const next = queue.shift();
    if (next === undefined) return { output: undefined, done: false, history, calls, statuses, end: now };
    now = Math.max(now, next.at);
    history.push(h.orchestratorStarted(now), { ...next.event, Timestamp: new Date(now).toISOString() });
  }
  throw new Error('too many steps');
}
