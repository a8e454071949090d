import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const resolutionCache = resolve(__dirname, '..', '..', '..', 'src', 'host', 'resolutionCache.js');

interface Run {
  installed: boolean;
  answers: string[];
  hits: number;
  misses: number;
}

/** In a fresh process: installs the cache in `dir`, resolves `requests` from `from`, flushes.
 * The same command line every time (the cache is keyed by it): the requests come in the environment. */
function run(dir: string, from: string, requests: string[], marginMs = 0, nodeArgs: string[] = [], later: string[] = []): Run {
  const out = execFileSync(
    process.execPath,
    [
      ...nodeArgs,
      '-e',
      `const c = require(${JSON.stringify(resolutionCache)}).installResolutionCache(${JSON.stringify(dir)}, { marginMs: Number(process.env.LF_MARGIN_MS) });
       const r = require('node:module').createRequire(${JSON.stringify(from)});
       const answers = JSON.parse(process.env.LF_REQUESTS).map((q) => { try { return r.resolve(q); } catch (e) { return 'error ' + e.code; } });
       c?.flush();
       // What a host resolves after its start (the first flush) is not kept.
       for (const q of JSON.parse(process.env.LF_LATER)) { try { r.resolve(q); } catch {} }
       c?.flush();
       process.stdout.write(JSON.stringify({ installed: c !== undefined, answers, hits: c?.stats.hits ?? 0, misses: c?.stats.misses ?? 0 }));`,
    ],
    { encoding: 'utf8', env: { ...process.env, LF_REQUESTS: JSON.stringify(requests), LF_MARGIN_MS: String(marginMs), LF_LATER: JSON.stringify(later) } },
  );
  return JSON.parse(out) as Run;
}

function write(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/**
 * An app with a package and local files. It lives next to this test, not in the system's temp
 * directory: every answer depends on every directory above the requiring file, and other
 * processes create and remove files in /tmp all the time (which rightly voids the answers).
 */
function fixture(t: { after(fn: () => void): void }): { root: string; dir: string; from: string } {
  const root = mkdtempSync(join(__dirname, '.resolution-cache-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  write(join(root, 'app', 'node_modules', 'pkg', 'package.json'), JSON.stringify({ name: 'pkg', main: 'lib/index.js' }));
  write(join(root, 'app', 'node_modules', 'pkg', 'lib', 'index.js'), '');
  write(join(root, 'app', 'node_modules', 'pkg', 'lib', 'other.js'), '');
  write(join(root, 'app', 'src', 'a.js'), '');
  write(join(root, 'app', 'src', 'util.json'), '{}');
  const dir = join(root, 'cache');
  mkdirSync(dir, { mode: 0o700 });
  return { root, dir, from: join(root, 'app', 'src', 'a.js') };
}

/** The ctimes of every directory above `root`. */
function above(root: string): string {
  const stamps: number[] = [];
  for (let d = dirname(root); ; d = dirname(d)) {
    stamps.push(statSync(d).ctimeMs);
    if (dirname(d) === d) return stamps.join(',');
  }
}

/**
 * `runs()` on an empty cache `dir`, again (at most 10 times) until nothing changed in a
 * directory above the fixture while it ran: every answer depends on those directories, so the
 * cache rightly voids them all then, and the suite's other tests create and remove files in
 * /tmp and in the checkout all the time. A cache that never hits still fails every attempt.
 */
function whileStill<T>(root: string, dir: string, runs: () => T): T {
  for (let attempt = 1; ; attempt++) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { mode: 0o700 });
    const before = above(root);
    const result = runs();
    if (attempt === 10 || above(root) === before) return result;
  }
}

const REQUESTS = ['pkg', 'pkg/lib/other', './util', 'node:path', 'fs', './missing'];

test("the next process takes the answers from the cache, and they are Node's", (t) => {
  const { root, dir, from } = fixture(t);
  const [first, second] = whileStill(root, dir, () => [run(dir, from, REQUESTS), run(dir, from, REQUESTS)] as const);
  assert.equal(first.installed, true);
  assert.deepEqual(first.answers, [
    join(root, 'app', 'node_modules', 'pkg', 'lib', 'index.js'),
    join(root, 'app', 'node_modules', 'pkg', 'lib', 'other.js'),
    join(root, 'app', 'src', 'util.json'),
    'node:path',
    'fs',
    'error MODULE_NOT_FOUND',
  ]);
  assert.equal(first.hits, 0);
  assert.deepEqual(second.answers, first.answers);
  assert.equal(second.hits, 3, 'the three files; built-in modules and failures are not kept');
});

test('answers a process did not want are kept when it writes new ones', (t) => {
  const { root, dir, from } = fixture(t);
  const [utilAlone, both] = whileStill(root, dir, () => {
    run(dir, from, ['pkg']);
    return [run(dir, from, ['./util']), run(dir, from, ['pkg', './util'])] as const;
  });
  assert.equal(utilAlone.hits, 0);
  assert.equal(both.hits, 2);
});

test('only the answers of the start (up to the first flush) are written, not those of the run after it', (t) => {
  const { root, dir, from } = fixture(t);
  const next = whileStill(root, dir, () => {
    run(dir, from, ['pkg'], 0, [], ['./util']);
    return run(dir, from, ['pkg', './util']);
  });
  assert.deepEqual([next.hits, next.misses], [1, 1]);
});

test('a package that appears earlier in the node_modules chain is found, not the cached one', (t) => {
  const { root, dir, from } = fixture(t);
  run(dir, from, REQUESTS);
  write(join(root, 'app', 'src', 'node_modules', 'pkg', 'index.js'), '');
  const after = run(dir, from, ['pkg']);
  assert.deepEqual(after.answers, [join(root, 'app', 'src', 'node_modules', 'pkg', 'index.js')]);
  assert.equal(after.hits, 0);
});

test('a file with an extension Node tries first is found, not the cached one', (t) => {
  const { root, dir, from } = fixture(t);
  run(dir, from, REQUESTS);
  write(join(root, 'app', 'src', 'util.js'), '');
  assert.deepEqual(run(dir, from, ['./util']).answers, [join(root, 'app', 'src', 'util.js')]);
});

test("a package.json whose main changed in place is read again; a removed file is Node's error", (t) => {
  const { root, dir, from } = fixture(t);
  run(dir, from, REQUESTS);
  writeFileSync(join(root, 'app', 'node_modules', 'pkg', 'package.json'), JSON.stringify({ name: 'pkg', main: 'lib/other.js' }));
  assert.deepEqual(run(dir, from, ['pkg']).answers, [join(root, 'app', 'node_modules', 'pkg', 'lib', 'other.js')]);
  rmSync(join(root, 'app', 'node_modules', 'pkg', 'lib', 'other.js'));
  assert.deepEqual(run(dir, from, ['pkg/lib/other']).answers, ['error MODULE_NOT_FOUND']);
});

test('an answer whose directories changed just before the start is not written', (t) => {
  const { dir, from } = fixture(t);
  // The fixture was written well within the last minute.
  run(dir, from, REQUESTS, 60_000);
  const next = run(dir, from, REQUESTS, 60_000);
  assert.equal(next.hits, 0);
});

test("a corrupt, truncated or forged cache file is ignored: the answers are Node's", (t) => {
  const { root, dir, from } = fixture(t);
  const [first, second] = whileStill(root, dir, () => [run(dir, from, REQUESTS), run(dir, from, REQUESTS)] as const);
  const expected = first.answers;
  const [file] = readdirSync(dir).filter((f) => f.startsWith('resolutions-'));
  assert.ok(file !== undefined);
  const path = join(dir, file);
  assert.equal(second.hits, 3);
  // No string in it needs a \u0000 escape, which takes JSON.parse off its fast path.
  assert.doesNotMatch(readFileSync(path, 'utf8'), /\\u0000/);
  const written = JSON.parse(readFileSync(path, 'utf8')) as object;
  const forged = [
    'not json',
    // The second version's file (it kept the answers of whole runs), else as written.
    JSON.stringify({ ...written, v: 2 }),
    '{"v":1,"key":',
    JSON.stringify({ v: 3, key: 'another node', deps: [], prints: [], entries: [[dirname(from), 'pkg', '/etc/passwd', []]] }),
    JSON.stringify({ v: 3, key: 5, deps: ['/'], prints: [], entries: [] }),
    JSON.stringify({ v: 3, key: '', deps: [], prints: [], entries: [[dirname(from), 'pkg', 'relative/path.js', [7]]] }),
    // The first version's format, directory and request joined by a NUL.
    JSON.stringify({ v: 1, key: '', deps: [], prints: [], entries: [[`${dirname(from)}\0pkg`, '/etc/passwd', []]] }),
    JSON.stringify([1, 2, 3]),
  ];
  for (const text of forged) {
    writeFileSync(path, text);
    const r = run(dir, from, REQUESTS);
    assert.deepEqual(r.answers, expected, text);
    assert.equal(r.hits, 0, text);
  }
  // A recorded answer whose dependencies no longer match what they were is not used.
  run(dir, from, REQUESTS);
  const stored = JSON.parse(readFileSync(path, 'utf8')) as { prints: string[] };
  stored.prints = stored.prints.map(() => '1:2:3');
  writeFileSync(path, JSON.stringify(stored));
  assert.equal(run(dir, from, REQUESTS).hits, 0);
});

test('no cache in a directory others can write, nor in a process whose resolution is hooked', (t) => {
  const { dir, from } = fixture(t);
  chmodSync(dir, 0o777);
  assert.equal(run(dir, from, REQUESTS).installed, false);
  chmodSync(dir, 0o700);
  const preload = join(dirname(from), 'hook.js');
  writeFileSync(preload, '');
  assert.equal(run(dir, from, REQUESTS, 0, ['-r', preload]).installed, false);
  assert.equal(run(dir, from, REQUESTS, 0, ['--preserve-symlinks']).installed, false);
});
