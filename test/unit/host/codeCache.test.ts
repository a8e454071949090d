import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const codeCache = resolve(__dirname, '..', '..', '..', 'src', 'host', 'codeCache.js');

/** In a fresh process: installs the cache in `dir`, requires `file`, flushes; prints what
 * the module computed and whether the cache was installed. */
function run(dir: string, file: string): { installed: boolean; value: unknown } {
  const out = execFileSync(
    process.execPath,
    [
      '-e',
      `const c = require(${JSON.stringify(codeCache)}).installCodeCache(${JSON.stringify(dir)});
       const value = require(${JSON.stringify(file)}).answer();
       c?.flush();
       process.stdout.write(JSON.stringify({ installed: c !== undefined, value }));`,
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(out) as { installed: boolean; value: unknown };
}

function setup(t: { after(fn: () => void): void }): { root: string; dir: string; file: string } {
  const root = mkdtempSync(join(tmpdir(), 'lf-code-cache-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const file = join(root, 'mod.js');
  // `require`, `module` and `__filename` behave as under Node's own compile.
  writeFileSync(
    file,
    `exports.answer = () => ({ n: 6 * 7, self: module.filename === __filename, path: typeof require('node:path').join, resolves: require.resolve('node:path') });`,
  );
  return { root, dir: join(root, 'cache'), file };
}

const expected = { n: 42, self: true, path: 'function', resolves: 'node:path' };

test('a module compiles from the entry a previous process wrote, and runs the same', (t) => {
  const { dir, file } = setup(t);
  assert.deepEqual(run(dir, file), { installed: true, value: expected });
  assert.equal(readdirSync(dir).length, 1);
  assert.deepEqual(run(dir, file), { installed: true, value: expected });
});

test('a corrupt or truncated entry is refused: the module compiles as usual and the entry is written again', (t) => {
  const { dir, file } = setup(t);
  run(dir, file);
  const [entry] = readdirSync(dir);
  writeFileSync(join(dir, entry!), Buffer.from('not V8 code cache'));
  assert.deepEqual(run(dir, file), { installed: true, value: expected });
  writeFileSync(join(dir, entry!), Buffer.alloc(0));
  assert.deepEqual(run(dir, file), { installed: true, value: expected });
});

test('an edited module never meets its old entry', (t) => {
  const { dir, file } = setup(t);
  run(dir, file);
  // Same length, other content: V8's own check (the source length) would not see it.
  writeFileSync(file, `exports.answer = () => 'edited';`.padEnd(200, ' '));
  assert.deepEqual(run(dir, file), { installed: true, value: 'edited' });
  assert.equal(readdirSync(dir).length, 2);
});

test('a module that may call import() is compiled by Node, and its import() works', (t) => {
  const { dir, file } = setup(t);
  writeFileSync(file, `exports.answer = () => typeof import('node:path').then;`);
  assert.deepEqual(run(dir, file), { installed: true, value: 'function' });
  assert.deepEqual(run(dir, file), { installed: true, value: 'function' });
  assert.deepEqual(readdirSync(dir), []);
});

test('a directory others can write is not used', (t) => {
  const { dir, file } = setup(t);
  mkdirSync(dir);
  chmodSync(dir, 0o777);
  assert.deepEqual(run(dir, file), { installed: false, value: expected });
  assert.deepEqual(readdirSync(dir), []);
});
