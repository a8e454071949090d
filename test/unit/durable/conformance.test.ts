import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseOrchestratorState, tagActions } from '../../../src/durable/actions';
import { entityIdProblem, entitySchedulerId, entityIdParts, parseEntityOutcome } from '../../../src/durable/entities';
import { event, EventType } from '../../../src/durable/history';
import { instanceIdProblem, subOrchestrationIdProblem } from '../../../src/durable/instanceId';
import { historyView } from '../../../src/durable/statusView';
import { resolveEntries } from '../../../src/host/app/loadApp';

test('instance ids: exactly the extension rule (no @ first, no / \\ # ? or control characters, at most 256)', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (id) => {
      const bad =
        id.startsWith('@') ||
        /[/\\#?]/.test(id) ||
        [...id].some((c) => c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f)) ||
        id.length > 256;
      assert.equal(instanceIdProblem(id) !== undefined, bad, JSON.stringify(id));
    }),
  );
  assert.equal(instanceIdProblem('abc-123_x.y:z'), undefined);
  assert.match(instanceIdProblem('@x') ?? '', /must not start with @/);
  // Sub-orchestrations: the extension checks only '@' and the parent's own id.
  assert.equal(subOrchestrationIdProblem('child/1', 'parent'), undefined);
  assert.match(subOrchestrationIdProblem('@child', 'parent') ?? '', /must not start with @/);
  assert.match(subOrchestrationIdProblem('parent', 'parent') ?? '', /different than the instance ID of a parent/);
});

test('entity ids: scheduler id round trip, key rule', () => {
  fc.assert(
    fc.property(fc.stringMatching(/^[A-Za-z][A-Za-z0-9]*$/), fc.string({ minLength: 1 }), (name, key) => {
      assert.deepEqual(entityIdParts(entitySchedulerId(name, key)), { name: name.toLowerCase(), key });
    }),
  );
  assert.match(entityIdProblem('counter', 'a/b') ?? '', /must not contain/);
  assert.equal(entityIdProblem('counter', 'k1'), undefined);
});

test('entity outcome: a deleted entity has no state; missing results are empty', () => {
  const o = parseEntityOutcome({ entityExists: false, entityState: '5', results: [{ isError: false, duration: 1 }], signals: [] }, 2);
  assert.equal(o.state, undefined);
  assert.deepEqual(o.results, [
    { isError: false, result: undefined },
    { isError: false, result: undefined },
  ]);
  assert.throws(() => parseEntityOutcome({ results: 'no' }, 1));
});

test('a task object that reappears inside Task.all is reported, equal new calls are not', () => {
  const greet = (input: string) => ({ actionType: 0, functionName: 'greet', input });
  const a = greet('a');
  const reyield = JSON.parse(JSON.stringify(tagActions({ isDone: false, actions: [[a, { actionType: 12, compoundActions: [a, greet('b')] }]] })));
  assert.match(parseOrchestratorState(reyield).failure?.message ?? '', /task 0 \('greet'\) was yielded again/);
  const fresh = JSON.parse(
    JSON.stringify(tagActions({ isDone: false, actions: [[greet('a'), { actionType: 12, compoundActions: [greet('a'), greet('b')] }]] })),
  );
  const parsed = parseOrchestratorState(fresh);
  assert.equal(parsed.failure, undefined);
  assert.equal(parsed.actions.length, 3);
  // Waiting for the same event in two compound tasks is fine (events have no task id).
  const ev = { actionType: 6, externalEventName: 'go' };
  const timer1 = { actionType: 5, fireAt: new Date(0).toISOString() };
  const timer2 = { actionType: 5, fireAt: new Date(1).toISOString() };
  const twice = JSON.parse(
    JSON.stringify(
      tagActions({
        isDone: false,
        actions: [
          [
            { actionType: 11, compoundActions: [ev, timer1] },
            { actionType: 11, compoundActions: [ev, timer2] },
          ],
        ],
      }),
    ),
  );
  assert.equal(parseOrchestratorState(twice).failure, undefined);
});

test("history view: the extension's shape", () => {
  const t = new Date('2026-01-01T00:00:00Z');
  const history = [
    event(EventType.OrchestratorStarted, t, {}),
    event(EventType.ExecutionStarted, t, { Name: 'o', Input: '"in"', OrchestrationInstance: { InstanceId: 'i', ExecutionId: 'e' } }),
    event(EventType.TaskScheduled, t, { Name: 'act', Input: '1' }, 0),
    event(EventType.TimerCreated, t, { FireAt: t.toISOString() }, 1),
    event(EventType.OrchestratorCompleted, t, { ActionCount: 2 }),
    event(EventType.TaskCompleted, t, { TaskScheduledId: 0, Result: '{"x":1}' }),
    event(EventType.TimerFired, t, { TimerId: 1, FireAt: t.toISOString() }),
  ];
  const view = historyView(history, { showInput: true, showHistoryOutput: true });
  assert.deepEqual(
    view.map((e) => e['EventType']),
    ['ExecutionStarted', 'TimerCreated', 'TaskCompleted', 'TimerFired'],
  );
  assert.deepEqual(view[2], {
    EventType: 'TaskCompleted',
    Timestamp: t.toISOString(),
    Result: { x: 1 },
    ScheduledTime: t.toISOString(),
    FunctionName: 'act',
    Input: '1',
  });
  assert.deepEqual(view[0], { EventType: 'ExecutionStarted', Timestamp: t.toISOString(), Input: '"in"', FunctionName: 'o' });
  const quiet = historyView(history, { showInput: false });
  assert.ok(!('Input' in (quiet[0] as object)) && !('Result' in (quiet[2] as object)));
});

test('package.json main: a glob loads every match (sorted); no match is a clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lf-main-'));
  try {
    mkdirSync(join(dir, 'functions'));
    for (const f of ['b.js', 'a.js', 'c.txt']) writeFileSync(join(dir, 'functions', f), '');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ main: 'functions/*.js' }));
    assert.deepEqual(resolveEntries(dir), [join(dir, 'functions', 'a.js'), join(dir, 'functions', 'b.js')]);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ main: 'dist/**/*.js' }));
    assert.throws(() => resolveEntries(dir), /found zero files matching the supplied pattern/);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ main: 'functions/a.js' }));
    assert.deepEqual(resolveEntries(dir), [join(dir, 'functions', 'a.js')]);
    // Patterns without a wildcard are patterns too (fast-glob is loaded only for these).
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ main: 'functions/{a,b}.js' }));
    assert.deepEqual(resolveEntries(dir), [join(dir, 'functions', 'a.js'), join(dir, 'functions', 'b.js')]);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ main: 'functions/[ab].js' }));
    assert.deepEqual(resolveEntries(dir), [join(dir, 'functions', 'a.js'), join(dir, 'functions', 'b.js')]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
