import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOnDemand, packageFile, whenLoaded } from '../../../src/loading/onDemand';

/** A module that counts its loads in a global and exports the way tsc and zod do. */
function fixture(t: { after(fn: () => void): void }): { file: string; loads: () => number } {
  const dir = mkdtempSync(join(tmpdir(), 'lf-on-demand-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const key = `__onDemandLoads_${Math.random().toString(36).slice(2)}`;
  const file = join(dir, 'mod.js');
  writeFileSync(
    file,
    `globalThis.${key} = (globalThis.${key} ?? 0) + 1;
Object.defineProperty(exports, '__esModule', { value: true });
exports.double = (n) => n * 2;
const en = { lang: 'en' };
Object.defineProperty(exports, 'en', { enumerable: true, get: () => en });`,
  );
  return { file, loads: () => ((globalThis as Record<string, unknown>)[key] as number | undefined) ?? 0 };
}

test('the stand-in loads the real module on the first look at an export, once', (t) => {
  const { file, loads } = fixture(t);
  loadOnDemand(() => file);
  t.after(() => delete require.cache[file]);
  const mod = require(file) as { __esModule: boolean; double(n: number): number; en: { lang: string } };
  assert.equal(mod.__esModule, true);
  assert.equal(loads(), 0, 'requiring it and asking __esModule do not load it');
  assert.equal(mod.double(21), 42);
  assert.equal(loads(), 1);
  assert.deepEqual(Object.keys(mod).sort(), ['double', 'en']);
  assert.equal(mod.en.lang, 'en');
  assert.ok('en' in mod);
  // The real module replaced the stand-in: later requires get it, without a second load.
  assert.equal((require(file) as typeof mod).double(2), 4);
  assert.notEqual(require(file), mod);
  assert.equal(loads(), 1);
});

test('a module loaded already, or one that does not resolve, is left alone', (t) => {
  const { file, loads } = fixture(t);
  t.after(() => delete require.cache[file]);
  const real = require(file) as unknown;
  loadOnDemand(() => file);
  assert.equal(require(file), real);
  assert.equal(loads(), 1);
  assert.doesNotThrow(() => loadOnDemand(() => require.resolve('no-such-package-ledgerflow')));
});

test('whenLoaded runs after the real module loads, before the export that loaded it is used', (t) => {
  const { file, loads } = fixture(t);
  loadOnDemand(() => file);
  t.after(() => delete require.cache[file]);
  const seen: number[] = [];
  whenLoaded(file, () => seen.push(loads()));
  const cancelled = whenLoaded(file, () => seen.push(-1));
  cancelled();
  const mod = require(file) as { double(n: number): number };
  assert.equal(seen.length, 0, 'requiring the stand-in runs nothing');
  const double = mod.double;
  assert.deepEqual(seen, [1], 'ran once, with the real module loaded, before the export was handed out');
  assert.equal(double(4), 8);
  mod.double(1);
  whenLoaded(file, () => seen.push(2));
  assert.deepEqual(seen, [1, 2], 'after the load, at once');
});

test('whenLoaded runs at once for a module not loaded on demand, or whose stand-in left the cache', (t) => {
  const { file } = fixture(t);
  let ran = 0;
  whenLoaded(file, () => ran++);
  assert.equal(ran, 1, 'not loaded on demand');
  loadOnDemand(() => file);
  whenLoaded(file, () => ran++);
  assert.equal(ran, 1);
  delete require.cache[file];
  // Whatever loads the file now loads it without the stand-in: nothing waits for a load that
  // will not come through it.
  whenLoaded(file, () => ran++);
  assert.equal(ran, 3, 'the waiting callback and the new one');
});

test('packageFile finds a file its package does not export', () => {
  assert.match(packageFile('zod', 'v4/locales/index.cjs'), /node_modules[/\\]zod[/\\]v4[/\\]locales[/\\]index\.cjs$/);
  assert.throws(() => packageFile('no-such-package-ledgerflow', 'x.js'));
});

test('the files src/loading/deferredModules.ts defers exist in the installed packages', () => {
  // If an upgrade moves them, nothing breaks but every start loads them again.
  assert.ok(existsSync(packageFile('zod', 'v4/locales/index.cjs')));
  assert.ok(existsSync(packageFile('durable-functions', 'lib/src/durableClient/getClient.js')));
  for (const replay of ['DurableOrchestrationContext', 'TaskOrchestrationExecutor']) {
    assert.ok(existsSync(packageFile('durable-functions', `lib/src/orchestrations/${replay}.js`)));
  }
  for (const task of ['RegisteredOrchestrationTask', 'RegisteredActivityTask'])
    assert.ok(existsSync(packageFile('durable-functions', `lib/src/task/${task}.js`)));
  assert.ok(existsSync(require.resolve('yaml')));
  assert.ok(existsSync(createRequire(packageFile('durable-functions', 'lib/src/index.js')).resolve('uuid')));
});

test("durable-functions' replay half loads with the first episode, and the episode runs as it did", () => {
  // Fresh processes, with and without the stand-ins: this one may have loaded the SDK already.
  const script = `
    if (process.env.DEFER === '1') require(${JSON.stringify(require.resolve('../../../src/loading/deferredModules'))});
    require('durable-functions');
    const { createOrchestrator, DurableOrchestrationInput, DummyOrchestrationContext } = require('durable-functions/lib/src/util/testingUtils');
    const { HistoryEventOptions } = require('durable-functions/lib/src/history/HistoryEventOptions');
    const { OrchestratorStartedEvent } = require('durable-functions/lib/src/history/OrchestratorStartedEvent');
    const { ExecutionStartedEvent } = require('durable-functions/lib/src/history/ExecutionStartedEvent');
    // A stand-in's exports are a proxy; any other look at them would load the real module.
    const loaded = (file) => { const m = require.cache[require.resolve('durable-functions/lib/src/' + file)]; return m !== undefined && !require('node:util').types.isProxy(m.exports); };
    const files = ['orchestrations/DurableOrchestrationContext.js', 'orchestrations/TaskOrchestrationExecutor.js', 'task/RegisteredActivityTask.js'];
    const before = files.map(loaded).concat(['/moment/', '/uuid/dist/v1.js'].map((dir) => Object.keys(require.cache).some((f) => f.includes(dir))));
    const orchestrate = createOrchestrator(function* (context) {
      const doubled = yield context.df.callActivity('double', { n: 21, guid: context.df.newGuid(context.df.instanceId) });
      return doubled;
    });
    const at = new Date('2026-01-01T00:00:00Z');
    const history = [new OrchestratorStartedEvent(new HistoryEventOptions(0, at)), new ExecutionStartedEvent({ ...new HistoryEventOptions(1, at), name: 'o', input: undefined })];
    orchestrate(new DurableOrchestrationInput('i1', history), new DummyOrchestrationContext()).then((state) => {
      process.stdout.write(JSON.stringify({ before, after: files.slice(0, 2).map(loaded), state }));
    }, (err) => { console.error(err); process.exit(1); });`;
  const run = (defer: boolean) => {
    const out = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, DEFER: defer ? '1' : '0' }, encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    return JSON.parse(out.stdout) as { before: boolean[]; after: boolean[]; state: { actions: unknown[][] } };
  };
  const deferred = run(true);
  assert.deepEqual(deferred.before, [false, false, false, false, false], 'nothing of the replay half (nor moment, nor uuid) at load');
  assert.deepEqual(deferred.after, [true, true], 'the context and the executor (a registered activity task loads when an orchestrator makes one)');
  const eager = run(false);
  assert.deepEqual(eager.before, [true, true, true, true, true]);
  assert.deepEqual(deferred.state, eager.state);
  // newGuid (uuid v5 of the instance and the replay time): the same in both.
  assert.deepEqual(deferred.state.actions, [
    [{ actionType: 0, functionName: 'double', input: { n: 21, guid: (eager.state.actions[0]?.[0] as { input: { guid: string } }).input.guid } }],
  ]);
  assert.match((deferred.state.actions[0]?.[0] as { input: { guid: string } }).input.guid, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-/);
});

test("durable-functions' entity runtime (with debug) loads when an entity function is made, not at load", () => {
  const script = `
    if (process.env.DEFER === '1') require(${JSON.stringify(require.resolve('../../../src/loading/deferredModules'))});
    require('durable-functions');
    const loaded = () => { const m = require.cache[require.resolve('durable-functions/lib/src/entities/Entity.js')]; return m !== undefined && !require('node:util').types.isProxy(m.exports); };
    const debug = () => Object.keys(require.cache).some((f) => f.includes('/debug/src/'));
    const before = [loaded(), debug()];
    const { createEntityFunction } = require('durable-functions/lib/src/util/testingUtils');
    const made = createEntityFunction((context) => { context.df.setState((context.df.getState(() => 0)) + context.df.getInput()); context.df.return(context.df.getState()); });
    const after = [loaded(), debug()];
    process.stdout.write(JSON.stringify({ before, after, kind: typeof made }));`;
  const run = (defer: boolean) => {
    const out = spawnSync(process.execPath, ['-e', script], { env: { ...process.env, DEFER: defer ? '1' : '0' }, encoding: 'utf8' });
    assert.equal(out.status, 0, out.stderr);
    return JSON.parse(out.stdout) as { before: boolean[]; after: boolean[]; kind: string };
  };
  const deferred = run(true);
  assert.deepEqual(deferred.before, [false, false], 'no entity runtime, no debug at load');
  assert.deepEqual(deferred.after, [true, true]);
  const eager = run(false);
  assert.deepEqual(eager.before, [true, true]);
  assert.deepEqual(deferred.kind, eager.kind);
});
