import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { event, EventType } from '../../../src/durable/history';
import { entityTriggerJson } from '../../../src/durable/entities';
import { replayText } from '../../../src/durable/triggerInput';
import { invokeDirectly } from '../../../src/host/app/directInvocation';
import { HookRegistry } from '../../../src/host/app/hooks';
import { invokeFunction, type InvocationInput, type InvocationResult, type InvokeDeps } from '../../../src/host/app/invoke';
import type { LoadedApp } from '../../../src/host/app/loadApp';
import { loadFixtureApp, testLogger } from '../../helpers/inProcessApp';
import type { RegisteredFunction } from '../../../src/host/app/registry';
import type { Seen } from '../../fixtures/apps/directInvocation';

// The durable triggers' invocations the host does without the programming model's
// InvocationModel must give handlers what @azure/functions gives them, and turn their
// answers into the same typed data. Each case runs both ways on the real packages, loaded
// in this process: through the model (a no-op preInvocation hook keeps an invocation
// there) and directly.

const lines: Record<string, unknown>[] = [];
let app: LoadedApp;
let viaModel: InvokeDeps;
let direct: InvokeDeps;
let fixture: { seen: Seen[]; next: { value: unknown; error?: Error; lateLog?: boolean } };
let close: () => Promise<void>;

before(async () => {
  const logger = testLogger(lines);
  ({ app, fixture, close } = await loadFixtureApp<typeof fixture>('directInvocation', logger));
  const modelHooks = new HookRegistry();
  modelHooks.register('preInvocation', () => undefined);
  viaModel = { programmingModel: app.programmingModel, hooks: modelHooks, logger };
  direct = { programmingModel: app.programmingModel, hooks: app.hooks, logger };
});
after(() => close());

const fn = (name: string): RegisteredFunction => app.registry.get(name) as RegisteredFunction;

/** Both ways, each with its own invocation id (the rest equal), and what the handler saw. */
async function both(
  name: string,
  input: InvocationInput,
): Promise<{ model: { result: InvocationResult; seen: Seen | undefined }; direct: { result: InvocationResult; seen: Seen | undefined } }> {
  const run = async (invocation: () => Promise<InvocationResult> | undefined) => {
    fixture.seen.length = 0;
    const pending = invocation();
    assert.ok(pending, 'the direct path is taken');
    return { result: await pending, seen: fixture.seen[0] };
  };
  return {
    model: await run(() => invokeFunction(viaModel, fn(name), input, 'id-1')),
    // The model taught the direct path its context class on its first invocation.
    direct: await run(() => invokeDirectly(direct, fn(name), input, 'id-2', undefined)),
  };
}

/** A context as data: its own fields, class and what its extra inputs and outputs are. */
function shape(seen: Seen | undefined): unknown {
  assert.ok(seen);
  const { context } = seen;
  return {
    input: seen.input,
    class: context.constructor,
    keys: Object.keys(context),
    fields: { ...context, invocationId: undefined, extraInputs: undefined, extraOutputs: undefined },
    extraInputs: context.extraInputs.constructor,
    extraOutputs: context.extraOutputs.constructor,
  };
}

test('an activity: the same input, context and return value, for every kind of value', async () => {
  for (const value of ['text', 42, 4.5, { nested: [1, { a: null }] }, [1, 'two'], true, null, undefined, Buffer.from('bytes'), new Uint8Array([1, 2])]) {
    fixture.next.value = value;
    const r = await both('returns', {
      trigger: { json: JSON.stringify({ x: value instanceof Uint8Array ? 'bytes' : value }) },
      // An id that looks like a number becomes one; other text stays text; keys camel-cased.
      triggerMetadata: { instanceId: { string: '123' }, Other: { json: '"abc"' }, Nested: { json: '{"InnerKey":{"Deep":1}}' } },
      retryContext: { retryCount: 1, maxRetryCount: 3 },
    });
    assert.deepEqual(shape(r.direct.seen), shape(r.model.seen));
    assert.deepEqual(r.direct.seen?.context.triggerMetadata, { instanceId: 123, other: 'abc', nested: { innerKey: { deep: 1 } } });
    assert.equal(r.direct.seen?.context.invocationId, 'id-2');
    assert.deepEqual({ ...r.direct.result, invocationId: 'id' }, { ...r.model.result, invocationId: 'id' }, `returning ${String(value)}`);
  }
});

test('an activity that throws rejects with what it threw, both ways', async () => {
  fixture.next.value = undefined;
  fixture.next.error = new Error('boom');
  try {
    const thrown = (deps: InvokeDeps, json: string) => invokeFunction(deps, fn('returns'), { trigger: { json } }).catch((e: unknown) => e);
    assert.equal(await thrown(viaModel, '1'), fixture.next.error);
    assert.equal(await thrown(direct, '1'), fixture.next.error);
    // Trigger data that is not JSON fails the invocation as the model's conversion does.
    const bad = await thrown(direct, '{');
    assert.ok(bad instanceof SyntaxError);
  } finally {
    delete fixture.next.error;
  }
});

test('log lines, and a line logged after the function finished, reach the host the same way', async () => {
  const logged = async (deps: InvokeDeps, id: string) => {
    lines.length = 0;
    fixture.next.lateLog = true;
    await invokeFunction(deps, fn('returns'), { trigger: { json: '7' } }, id);
    // Waits for the late line itself: a fixed pause was too short on a loaded machine, and the
    // model's late line then landed among the direct path's.
    while (!lines.some((l) => l['msg'] === 'late line')) await new Promise((r) => setTimeout(r, 5));
    fixture.next.lateLog = false;
    return lines.map((l) => ({
      msg: String(l['msg']).replace(id, '<id>'),
      level: l['level'],
      category: l['category'],
      functionName: l['functionName'],
      same: l['invocationId'] === id,
    }));
  };
  const model = await logged(viaModel, 'log-1');
  const directLines = await logged(direct, 'log-2');
  assert.deepEqual(directLines, model);
  assert.deepEqual(
    model.map((l) => l.msg),
    [
      'returning undefined { for: 7 }',
      "Warning: Unexpected call to 'log' on the context object after function execution has completed. Please check for asynchronous calls that are not awaited. Function name: returns. Invocation Id: <id>.",
      'late line',
    ],
  );
});

test('log hooks are shown the invocation context the handler was given, also for a late line', async () => {
  const hooks = new HookRegistry();
  const shown: unknown[] = [];
  hooks.register('log', (ctx) => void shown.push((ctx as { invocationContext?: unknown }).invocationContext));
  fixture.seen.length = 0;
  fixture.next.value = 1;
  fixture.next.lateLog = true;
  try {
    await invokeFunction({ ...direct, hooks }, fn('returns'), { trigger: { json: '7' } }, 'hooked');
    // Waits for the late line itself (a fixed pause can be too short on a loaded machine).
    while (shown.length < 2) await new Promise((r) => setTimeout(r, 5));
  } finally {
    fixture.next.lateLog = false;
  }
  const context = fixture.seen[0]?.context;
  assert.ok(context !== undefined);
  assert.equal(context.invocationId, 'hooked');
  assert.equal(shown.length, 2);
  assert.ok(shown.every((c) => c === context));
});

test('an orchestrator episode: the same state back from the SDK', async () => {
  const t = new Date('2026-01-01T00:00:00Z');
  const history = [
    event(EventType.OrchestratorStarted, t, {}),
    event(EventType.ExecutionStarted, t, { Name: 'twice', Input: '5', OrchestrationInstance: { InstanceId: 'i1', ExecutionId: 'e1' } }),
    event(EventType.TaskScheduled, t, { Name: 'returns', Input: '5' }, 0),
    event(EventType.TaskCompleted, t, { TaskScheduledId: 0, Result: '6' }),
  ];
  const triggerJson = `{"history":[${history
    .map(replayText)
    .filter((e) => e !== undefined)
    .join(',')}],"input":5,"instanceId":"i1","isReplaying":false,"upperSchemaVersion":1}`;
  const r = await both('twice', { trigger: { json: triggerJson } });
  assert.deepEqual({ ...r.direct.result, invocationId: 'id' }, { ...r.model.result, invocationId: 'id' });
  const state = JSON.parse(r.direct.result.returnValue?.json ?? 'null') as { isDone: boolean; output: unknown };
  assert.equal(state.isDone, true);
  assert.deepEqual(state.output, [6, 'i1', false]);
});

test('release gets the trigger value and context the handler was given, once it has returned or thrown, both ways', async () => {
  for (const error of [undefined, new Error('boom')]) {
    const released: { trigger: unknown; context: unknown; handled: number }[] = [];
    const input: InvocationInput = {
      trigger: { json: '{"history":[{"EventType":12}]}' },
      release: (trigger, context) => void released.push({ trigger, context, handled: fixture.seen.length }),
    };
    const seen: (Seen | undefined)[] = [];
    for (const invoke of [() => invokeFunction(viaModel, fn('returns'), input, 'r-1'), () => invokeDirectly(direct, fn('returns'), input, 'r-2', undefined)]) {
      fixture.seen.length = 0;
      fixture.next.value = 1;
      if (error) fixture.next.error = error;
      try {
        await invoke()?.catch((e: unknown) => assert.equal(e, error));
      } finally {
        delete fixture.next.error;
      }
      seen.push(fixture.seen[0]);
    }
    assert.equal(released.length, 2);
    released.forEach((r, i) => {
      assert.equal(r.trigger, seen[i]?.input);
      assert.equal(r.context, seen[i]?.context);
      assert.equal(r.handled, 1);
    });
  }
});

test('an entity batch: the same state and results back from the SDK', async () => {
  const triggerJson = entityTriggerJson('@counter@c1', '2', [
    { id: 'r1', op: 'add', signal: false, input: '3' },
    { id: 'r2', op: 'add', signal: true },
  ]);
  const r = await both('counter', { trigger: { json: triggerJson } });
  // The SDK times each operation (startTime, duration): the rest must be equal.
  const untimed = (result: InvocationResult) => {
    const state = JSON.parse(result.returnValue?.json ?? 'null') as { results: Record<string, unknown>[]; entityState: string };
    return { ...state, results: state.results.map(({ startTime: _s, duration: _d, ...rest }) => rest) };
  };
  assert.deepEqual(untimed(r.direct.result), untimed(r.model.result));
  assert.equal(untimed(r.direct.result).entityState, '5');
  assert.deepEqual(untimed(r.direct.result).results[0], { isError: false, result: '5' });
});

test('data the model converts specially, hooks, extra inputs and other triggers stay with the model', () => {
  const returns = fn('returns');
  assert.equal(invokeDirectly(direct, returns, { trigger: { bytes: new Uint8Array([1]) } }, 'x', undefined), undefined);
  assert.equal(invokeDirectly(direct, returns, { trigger: { json: '1' }, triggerMetadata: { b: { bytes: new Uint8Array([1]) } } }, 'x', undefined), undefined);
  assert.equal(invokeDirectly(direct, returns, { trigger: { json: '1' } }, 'x', { extra: { json: '1' } }), undefined);
  assert.equal(invokeDirectly(viaModel, returns, { trigger: { json: '1' } }, 'x', undefined), undefined);
});
