import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningHost } from '../../../src/host/host';
import type { HostExtension, RegisteredFunction } from '../../../src/host/extension';
import { fixtureApp } from '../../../bench/support/host';
import { startInProcessHost } from '../../helpers/inProcessApp';

// In-process: the test inspects what the host received through `@azure/functions-core`
// when an app registered functions with the real `@azure/functions` package.

let host: RunningHost;
let stop: () => Promise<void>;
const startedWith: RegisteredFunction[] = [];

/** A stand-in for engines like the durable one: its own trigger and input binding types,
 * and a route outside /api that invokes its function. */
const customExtension: HostExtension = {
  name: 'custom',
  triggerTypes: ['customTrigger'],
  inputBindingTypes: ['customInput'],
  start(ctx, functions) {
    startedWith.push(...functions);
    ctx.mountHttp('/runtime/custom', async (_req, res, url) => {
      const fn = ctx.getFunction(url.pathname.split('/').pop() ?? '');
      if (!fn) {
        res.writeHead(404).end();
        return;
      }
      const result = await ctx.invoke(fn, { trigger: { json: JSON.stringify({ hello: 'world' }) } });
      res.writeHead(200, { 'content-type': 'application/json' }).end(result.returnValue?.json ?? 'null');
    });
  },
  resolveInput: (binding) => ({ json: JSON.stringify({ resolvedFor: binding.name }) }),
  stop() {},
};

before(async () => {
  ({ host, stop } = await startInProcessHost(fixtureApp('metadata'), {
    env: (dataDir) => ({ PORT: '0', LEDGERFLOW_DATA_DIR: dataDir, NIGHTLY_SCHEDULE: '0 30 2 * * *' }),
    extensions: [customExtension],
  }));
});
after(() => stop());

const fn = (name: string) => {
  const found = host.context.getFunction(name);
  assert.ok(found, `function ${name} is registered`);
  return found;
};

test('HTTP trigger metadata: route, methods, auth level, return and extra outputs', () => {
  const f = fn('createThing');
  assert.equal(f.trigger.type, 'httpTrigger');
  assert.equal(f.trigger.direction, 'in');
  assert.equal(f.trigger.options['route'], 'things/{id}');
  assert.deepEqual(f.trigger.options['methods'], ['POST']);
  assert.equal(f.trigger.options['authLevel'], 'function');
  assert.deepEqual(
    f.outputs.map((b) => [b.name, b.type, b.direction]),
    [
      ['$return', 'http', 'out'],
      [f.outputs[1]?.name, 'queue', 'out'],
    ],
  );
  assert.equal(f.outputs[1]?.options['queueName'], 'things-created');
});

test('timer metadata: the schedule setting expression is resolved, the retry policy parsed', () => {
  const f = fn('nightly');
  assert.equal(f.trigger.type, 'timerTrigger');
  assert.equal(f.trigger.options['schedule'], '0 30 2 * * *');
  assert.equal(f.trigger.options['runOnStartup'], false);
  assert.deepEqual(f.retry, { strategy: 'fixedDelay', maxRetryCount: 3, delayMs: 10_000, minimumMs: 0, maximumMs: 0 });
});

test('queue trigger metadata', () => {
  const f = fn('onThing');
  assert.equal(f.trigger.type, 'queueTrigger');
  assert.equal(f.trigger.options['queueName'], 'things-created');
  assert.equal(f.trigger.options['connection'], 'AzureWebJobsStorage');
});

test('an extension gets the functions of its trigger type, resolves inputs, mounts routes and invokes', async () => {
  assert.deepEqual(
    startedWith.map((f) => f.name),
    ['custom'],
  );
  assert.equal(startedWith[0]?.trigger.options['flavour'], 'mint');
  const res = await fetch(`${host.url}/runtime/custom/custom`);
  const body = (await res.json()) as Record<string, unknown>;
  assert.deepEqual(body['payload'], { hello: 'world', preHook: true });
  assert.equal(body['postHook'], true);
  assert.deepEqual(body['extra'], { resolvedFor: 'extra' });
  assert.match(String(body['invocationId']), /^[0-9a-f-]{36}$/);
});

test('a function whose trigger no extension handles is not run', () => {
  assert.equal(host.context.getFunction('unsupported'), undefined);
  assert.deepEqual(
    host.context
      .functions()
      .map((f) => f.name)
      .sort(),
    ['createThing', 'custom', 'nightly', 'onThing'],
  );
});
