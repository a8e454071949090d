import { test } from 'node:test';
import assert from 'node:assert/strict';
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
  assert.ok(existsSync(require.resolve('yaml')));
});
