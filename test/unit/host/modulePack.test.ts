import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const modulePack = resolve(__dirname, '..', '..', '..', 'src', 'host', 'modulePack.js');

interface Run {
  installed: boolean;
  value: unknown;
  stats: { packed: number; loaded: number } | undefined;
}

/** In a fresh process: installs the pack in `dir`, requires `file`, calls its answer(), flushes. */
function run(dir: string, file: string): Run {
  const out = execFileSync(
    process.execPath,
    [
      '-e',
      `const p = require(${JSON.stringify(modulePack)}).installModulePack(${JSON.stringify(dir)}, 'test', { marginMs: 0 });
       const value = require(${JSON.stringify(file)}).answer();
       p?.flush();
       process.stdout.write(JSON.stringify({ installed: p !== undefined, value, stats: p?.stats }));`,
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(out) as Run;
}

function setup(t: { after(fn: () => void): void }): { root: string; dir: string; file: string } {
  const root = mkdtempSync(join(tmpdir(), 'lf-module-pack-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const file = join(root, 'mod.js');
  // `require`, `module`, `exports`, `this` and `__filename` behave as under Node's own compile,
  // and the module requires another of the pack.
  writeFileSync(
    file,
    `'use strict';
exports.answer = () => ({
  n: require('./dep').n,
  self: module.filename === __filename && this === exports,
  resolves: require.resolve('./dep') === ${JSON.stringify(join(root, 'dep.js'))},
  cached: require.cache[__filename] === module,
  strict: (function () { return this; })() === undefined,
});`,
  );
  writeFileSync(join(root, 'dep.js'), 'exports.n = 6 * 7;\n');
  return { root, dir: join(root, 'cache'), file };
}

const expected = { n: 42, self: true, resolves: true, cached: true, strict: true };

test('the modules of a start load from the pack at the next, and run the same', (t) => {
  const { dir, file } = setup(t);
  assert.deepEqual(run(dir, file), { installed: true, value: expected, stats: { packed: 0, loaded: 2 } });
  // The second start keeps the pack's V8 code; the third starts from it.
  assert.deepEqual(run(dir, file), { installed: true, value: expected, stats: { packed: 2, loaded: 0 } });
  assert.ok(readdirSync(dir).some((f) => f.endsWith('.cache')));
  assert.deepEqual(run(dir, file), { installed: true, value: expected, stats: { packed: 2, loaded: 0 } });
});

test('an edited module loads from its file, and the pack is written again', (t) => {
  const { dir, file, root } = setup(t);
  run(dir, file);
  run(dir, file);
  // Same length, other content.
  writeFileSync(join(root, 'dep.js'), 'exports.n = 6 * 8;\n');
  assert.deepEqual(run(dir, file), { installed: true, value: { ...expected, n: 48 }, stats: { packed: 1, loaded: 1 } });
  assert.deepEqual(run(dir, file), { installed: true, value: { ...expected, n: 48 }, stats: { packed: 2, loaded: 0 } });
  // The old text and its V8 code are gone: one pack, its manifest, its code and what it covers.
  assert.equal(readdirSync(dir).length, 4);
});

test('a stack trace from a packed module names its file, line and column', (t) => {
  const { dir, file } = setup(t);
  writeFileSync(file, `'use strict';\n\nexports.answer = () => {\n  return new Error('here').stack.split('\\n')[1];\n};\n`);
  const frame = `${file}:4:10`;
  assert.ok((run(dir, file).value as string).includes(frame));
  const packed = run(dir, file);
  assert.equal(packed.stats?.packed, 1);
  assert.ok((packed.value as string).includes(frame), packed.value as string);
});

test('packages, modules that may call import() and files changed just now are not packed', (t) => {
  const { dir, file, root } = setup(t);
  mkdirSync(join(root, 'node_modules', 'pkg'), { recursive: true });
  writeFileSync(join(root, 'node_modules', 'pkg', 'index.js'), 'exports.n = 1;\n');
  writeFileSync(join(root, 'dep.js'), `exports.n = 41 + require('pkg').n;\nexports.later = () => import('node:path');\n`);
  run(dir, file);
  assert.deepEqual(run(dir, file).stats, { packed: 1, loaded: 2 });
  // With the usual margin, a file written a moment ago is left to the next start.
  const other = mkdtempSync(join(root, 'fresh-'));
  writeFileSync(join(other, 'mod.js'), 'exports.answer = () => 1;\n');
  const out = execFileSync(
    process.execPath,
    [
      '-e',
      `const p = require(${JSON.stringify(modulePack)}).installModulePack(${JSON.stringify(join(other, 'cache'))}, 'test'); require(${JSON.stringify(join(other, 'mod.js'))}); p.flush();`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(out, '');
  assert.deepEqual(readdirSync(join(other, 'cache')), []);
});

test('a corrupt pack, manifest or V8 code is not used: the modules load from their files', (t) => {
  const { dir, file } = setup(t);
  run(dir, file);
  run(dir, file);
  for (const name of readdirSync(dir)) writeFileSync(join(dir, name), name.endsWith('.cache') ? Buffer.from('not V8 code') : '{');
  assert.deepEqual(run(dir, file), { installed: true, value: expected, stats: { packed: 0, loaded: 2 } });
});

test('a directory others can write is not used', (t) => {
  const { dir, file } = setup(t);
  mkdirSync(dir);
  chmodSync(dir, 0o777);
  assert.deepEqual(run(dir, file), { installed: false, value: expected });
  assert.deepEqual(readdirSync(dir), []);
});

test('the modules of another start stay in the pack: two programs do not write it in turn', (t) => {
  const { dir, file, root } = setup(t);
  const other = join(root, 'other.js');
  writeFileSync(other, 'exports.answer = () => 7;\n');
  run(dir, file);
  assert.deepEqual(run(dir, other), { installed: true, value: 7, stats: { packed: 0, loaded: 1 } });
  // Both from the pack from now on.
  assert.deepEqual(run(dir, file).stats, { packed: 2, loaded: 0 });
  assert.deepEqual(run(dir, other).stats, { packed: 1, loaded: 0 });
  assert.deepEqual(run(dir, file).stats, { packed: 2, loaded: 0 });
  // The pack's V8 code holds the functions of both by now.
  const covered = readdirSync(dir).find((f) => f.endsWith('.cached.json'));
  assert.deepEqual((JSON.parse(readFileSync(join(dir, covered!), 'utf8')) as string[]).sort(), [join(root, 'dep.js'), file, other].sort());
});
