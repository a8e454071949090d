import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActionType, parseOrchestratorFailure, parseOrchestratorState, type Action, type OrchestratorResult } from '../../../src/durable/actions';
import { event, EventType, type HistoryEvent, type InboxEvent, type RetryPolicy } from '../../../src/durable/history';
import { admit, applyEvent, decide, foldHistory, retryDelayMs, type ReplayState } from '../../../src/durable/replay';

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

const started = (input?: unknown, parent?: { InstanceId: string; TaskScheduledId: number; Name: string }) =>
  event(EventType.ExecutionStarted, T0, {
    Name: 'orch',
    Input: input === undefined ? undefined : JSON.stringify(input),
    OrchestrationInstance: { InstanceId: 'i1', ExecutionId: 'e1' },
    ParentInstance: parent,
  });
const completed = (id: number, result: unknown) => event(EventType.TaskCompleted, T0, { TaskScheduledId: id, Result: JSON.stringify(result) });
const failed = (id: number, reason: string) => event(EventType.TaskFailed, T0, { TaskScheduledId: id, Reason: reason, Details: '' });
const fired = (id: number) => event(EventType.TimerFired, T0, { TimerId: id, FireAt: T0.toISOString() });
const activity = (name: string, input?: unknown, retry?: RetryPolicy): Action => ({
  type: 'callActivity',
  name,
  input: input === undefined ? undefined : JSON.stringify(input),
  retry,
});
/** An SDK answer; `actions` is the whole list the SDK re-issues (the engine slices it). */
const result = (actions: Action[], more: Partial<OrchestratorResult> = {}): OrchestratorResult => ({
  isDone: false,
  actions,
  actionCount: actions.length,
  output: undefined,
  customStatus: undefined,
  ...more,
});

/** Runs one episode on `s` the way the engine does, returning what it appended. */
function episode(s: ReplayState, inbox: InboxEvent[], r: OrchestratorResult | undefined, now = T0) {
  const a = admit(s, inbox, now);
  a.events.forEach((e) => applyEvent(s, e));
  const d = a.runOrchestrator && r ? decide(s, { ...r, actions: r.actions.slice(s.actionCount) }, now) : undefined;
  d?.events.forEach((e) => applyEvent(s, e));
  return { admission: a, decision: d, events: [...a.events, ...(d?.events ?? [])] };
}

test('first episode: started event replayed, new actions numbered from 0, action count recorded', () => {
  const s = foldHistory('i1', []);
  const { admission, decision } = episode(s, [started(5)], result([activity('a', 1), activity('b', 2)]));
  assert.deepEqual(
    admission.events.map((e) => e.EventType),
    [EventType.OrchestratorStarted, EventType.ExecutionStarted],
  );
  assert.ok(admission.runOrchestrator);
  assert.deepEqual(
    decision?.effects.map((e) => (e.kind === 'scheduleActivity' ? [e.taskId, e.name] : e.kind)),
    [
      [0, 'a'],
      [1, 'b'],
    ],
  );
  assert.equal(s.status, 'Running');
  assert.equal(s.actionCount, 2);
  assert.equal(s.nextTaskId, 2);
  assert.deepEqual([...s.open.keys()], [0, 1]);
});

test('later episodes schedule only the suffix of actions the SDK re-issues on replay', () => {
  const s = foldHistory('i1', []);
  episode(s, [started()], result([activity('a'), activity('b')]));
  const { decision } = episode(
    s,
    [completed(0, 'A'), completed(1, 'B')],
    result([activity('a'), activity('b'), { type: 'createTimer', fireAt: at(1000), canceled: false }, { type: 'waitForExternalEvent', name: 'go' }]),
  );
  assert.deepEqual(decision?.effects, [{ kind: 'scheduleTimer', taskId: 2, fireAt: at(1000) }]);
  assert.equal(s.actionCount, 4);
  assert.equal(s.nextTaskId, 3);
  // The fold of the stored history gives the same state (what a restart rebuilds).
});

test('fold of a stored history equals the state built episode by episode', () => {
  const s = foldHistory('i1', []);
  const all: HistoryEvent[] = [];
  all.push(...episode(s, [started()], result([activity('a')])).events);
  all.push(...episode(s, [completed(0, 1)], result([activity('a'), activity('b')])).events);
  const rebuilt = foldHistory('i1', all);
  assert.deepEqual({ ...rebuilt, open: [...rebuilt.open] }, { ...s, open: [...s.open] });
});

test('retries: failure adds a retry timer, its firing the next attempt, the last failure a zero-delay timer', () => {
  const policy = { firstRetryIntervalInMilliseconds: 100, maxNumberOfAttempts: 2, backoffCoefficient: 2 };
  const s = foldHistory('i1', []);
  episode(s, [started()], result([activity('flaky', 1, policy)]));
  const f1 = episode(s, [failed(0, 'first')], result([activity('flaky', 1, policy)]), T0);
  assert.deepEqual(
    f1.events.map((e) => e.EventType),
    [EventType.OrchestratorStarted, EventType.TaskFailed, EventType.TimerCreated, EventType.OrchestratorCompleted],
  );
  assert.deepEqual(f1.admission.effects, [{ kind: 'scheduleTimer', taskId: 1, fireAt: at(100) }]);
  const t1 = episode(s, [fired(1)], result([activity('flaky', 1, policy)]));
  assert.deepEqual(t1.admission.effects, [{ kind: 'scheduleActivity', taskId: 2, name: 'flaky', input: '1' }]);
  const f2 = episode(s, [failed(2, 'second')], result([activity('flaky', 1, policy)]));
  assert.deepEqual(f2.admission.effects, [{ kind: 'scheduleTimer', taskId: 3, fireAt: T0 }]);
  const t2 = episode(s, [fired(3)], result([activity('flaky', 1, policy)]));
  assert.deepEqual(t2.admission.effects, []);
  assert.equal(s.nextTaskId, 4);
  assert.equal(retryDelayMs(policy, 2), 200);
  assert.equal(retryDelayMs({ ...policy, maxRetryIntervalInMilliseconds: 150 }, 3), 150);
});

test('one retry event per episode, placed first; the rest wait', () => {
  const policy = { firstRetryIntervalInMilliseconds: 10, maxNumberOfAttempts: 3 };
  const s = foldHistory('i1', []);
  episode(s, [started()], result([activity('x', 1, policy), activity('y', 2, policy), activity('z')]));
  const inbox = [completed(2, 'z'), failed(0, 'x'), failed(1, 'y')];
  const { admission } = episode(s, inbox, result([]));
  assert.deepEqual(
    admission.events.slice(1).map((e) => [e.EventType, e.EventId]),
    [
      [EventType.TaskFailed, -1],
      [EventType.TimerCreated, 3],
      [EventType.TaskCompleted, -1],
    ],
  );
  assert.ok(!admission.consumed.includes(inbox[2] as InboxEvent));
});

test('terminate ends the instance, drops the rest and tells the parent', () => {
  const s = foldHistory('i1', []);
  episode(s, [started(undefined, { InstanceId: 'p', TaskScheduledId: 4, Name: 'parent' })], result([activity('a')]));
  const term = event(EventType.ExecutionTerminated, T0, { Input: '"stop"' });
  const { admission } = episode(s, [completed(0, 1), term], undefined);
  assert.equal(s.status, 'Terminated');
  assert.equal(admission.consumed.length, 2);
  assert.ok(!admission.runOrchestrator);
  const notice = admission.effects.find((e) => e.kind === 'notifyParent');
  assert.equal(notice?.kind === 'notifyParent' && notice.event.EventType, EventType.SubOrchestrationInstanceFailed);
});

test('suspended instances take only control events; stale completions are dropped', () => {
  const s = foldHistory('i1', []);
  episode(s, [started()], result([activity('a')]));
  const suspend = event(EventType.ExecutionSuspended, T0, { Reason: 'r' });
  const ev = event(EventType.EventRaised, T0, { Name: 'go', Input: '1' });
  const a1 = episode(s, [suspend, ev], undefined);
  assert.equal(s.status, 'Suspended');
  assert.deepEqual(a1.admission.consumed, [suspend]);
  const resume = event(EventType.ExecutionResumed, T0, { Reason: 'r' });
  const a2 = episode(s, [ev, completed(7, 'stale'), resume], result([activity('a')]));
  assert.equal(s.status, 'Running');
  assert.equal(a2.admission.consumed.length, 3);
  assert.ok(!a2.admission.events.some((e) => e.EventType === EventType.TaskCompleted));
});

test('completion, failure and continue-as-new', () => {
  const parent = { InstanceId: 'p', TaskScheduledId: 2, Name: 'parent' };
  const s1 = foldHistory('i1', []);
  const done = episode(s1, [started(undefined, parent)], result([], { isDone: true, output: { ok: true } }));
  assert.equal(s1.status, 'Completed');
  assert.equal(s1.output, '{"ok":true}');
  assert.deepEqual(
    done.decision?.effects.map((e) => e.kind),
    ['notifyParent', 'finished'],
  );

  const s2 = foldHistory('i1', []);
  const bad = episode(s2, [started(undefined, parent)], result([], { failure: { message: 'boom', details: 'stack' } }));
  assert.equal(s2.status, 'Failed');
  assert.deepEqual(s2.failure, { message: 'boom', details: 'stack' });
  const n = bad.decision?.effects[0];
  assert.ok(n?.kind === 'notifyParent' && n.event.EventType === EventType.SubOrchestrationInstanceFailed && n.event.Reason === 'boom');

  const s3 = foldHistory('i1', []);
  const can = episode(s3, [started(1)], result([activity('lost'), { type: 'continueAsNew', input: '2' }], { isDone: true }));
  assert.deepEqual(can.decision?.effects, [{ kind: 'continueAsNew', input: '2' }]);
  assert.equal(s3.status, 'ContinuedAsNew');
});

test('unsupported actions fail the orchestration with a clear message', () => {
  const s = foldHistory('i1', []);
  episode(s, [started()], result([{ type: 'unsupported', what: 'callHttp', consumesTaskId: true }]));
  assert.equal(s.status, 'Failed');
  assert.match(s.failure?.message ?? '', /callHttp is not supported/);
});

test('SDK state parsing: nested Task.all/any flattened in numbering order, failures unwrapped', () => {
  const call = (n: string) => ({ actionType: ActionType.CallActivity, functionName: n, input: n });
  const state = {
    isDone: false,
    actions: [
      [
        call('a'),
        {
          actionType: ActionType.WhenAll,
          compoundActions: [
            call('b'),
            {
              actionType: ActionType.WhenAny,
              compoundActions: [call('c'), { actionType: ActionType.CreateTimer, fireAt: T0.toISOString(), isCanceled: false }],
            },
          ],
        },
      ],
    ],
    schemaVersion: 1,
  };
  const parsed = parseOrchestratorState(JSON.stringify(state));
  assert.deepEqual(
    parsed.actions.map((a) => (a.type === 'callActivity' ? a.name : a.type)),
    ['a', 'b', 'c', 'createTimer'],
  );
  assert.equal(parseOrchestratorState(state, 3).actions.length, 1);
  assert.equal(parseOrchestratorState(state, 3).actionCount, 4);
  // Strings arrive pre-encoded by the SDK (Utils.processInput).
  assert.equal((parsed.actions[0] as { input: string }).input, 'a');

  const thrown = new Error(`false\n\n$OutOfProcData$:${JSON.stringify({ isDone: false, actions: [[]], error: 'it broke', customStatus: 'x' })}`);
  const f = parseOrchestratorFailure(thrown);
  assert.equal(f.failure?.message, 'it broke');
  assert.equal(f.customStatus, 'x');
  assert.equal(parseOrchestratorFailure(new Error('host crashed')).failure?.message, 'host crashed');
});
