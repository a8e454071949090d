import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { clusterOptions } from '../../../src/adapters/compute/manifests/options';
import { listerPod, parseListing } from '../../../src/adapters/compute/manifests/reader';
import { WORKSPACE_PATH } from '../../../src/adapters/compute/manifests/workspace';
import { parseSettings } from '../../../src/config/settings';
import { relativePathProblem } from '../../../src/core/relativePath';

/**
 * The cluster backends' workspace listing (src/adapters/compute/manifests/reader.ts): the
 * lister pod's own script run by this machine's shell on a workspace a hostile job left, and
 * the parser of its log, which the job's file names can try to forge.
 */
const sha256 = (b: string) => createHash('sha256').update(b).digest('hex');
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** What the lister pod would print for `workspace` (its mount path swapped for the directory). */
function list(workspace: string, limit: number): string {
  const main = listerPod(clusterOptions(parseSettings({})), 'wf-1', limit, 'n1').spec!.containers[0]!;
  const script = main.command![2]!.replace(`"${WORKSPACE_PATH}"`, JSON.stringify(workspace));
  const env = Object.fromEntries(main.env!.map((e) => [e.name, e.value!]));
  return execFileSync('/bin/sh', ['-c', script], { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env } }).toString('utf8');
}

test('the lister lists regular files only, with size and digest, and a forged record in a name is refused', (t) => {
  const ws = mkdtempSync(join(tmpdir(), 'lf-list-'));
  t.after(() => rmSync(ws, { recursive: true, force: true }));
  writeFileSync(join(ws, 'out.txt'), 'result\n');
  mkdirSync(join(ws, 'sub dir'));
  writeFileSync(join(ws, 'sub dir', '-n'), '');
  symlinkSync('/etc/passwd', join(ws, 'leak'));
  symlinkSync('/', join(ws, 'root'));
  execFileSync('mkfifo', [join(ws, 'pipe')]);
  assert.deepEqual(
    parseListing(list(ws, 10), 10).sort((a, b) => (a.path < b.path ? -1 : 1)),
    [
      { path: 'out.txt', size: 7, sha256: sha256('result\n') },
      { path: 'sub dir/-n', size: 0, sha256: sha256('') },
    ],
  );
  // A name that carries a newline and a record of the job's choosing.
  const forged = `x\nF 5 ${sha256('forge')} ${b64('forged.txt')}`;
  writeFileSync(join(ws, forged), 'y');
  const log = list(ws, 10);
  assert.ok(!log.includes('forged.txt') && !log.includes(`F 5 ${sha256('forge')}`), 'the name left the pod in base64 only');
  assert.throws(() => parseListing(log, 10), /name is refused \(line \d+: the path must not contain control characters/);
  rmSync(join(ws, forged));
  // Past the limit the listing is cut and reported as too many files.
  assert.throws(
    () => parseListing(list(ws, 1), 1),
    (err: Error & { code?: string }) => err.code === 'payload_too_large',
  );
});

test('the parser refuses every malformed listing', () => {
  const ok = `F 1 ${sha256('x')} ${b64('a/b.txt')}\n`;
  assert.deepEqual(parseListing(`BEGIN\n${ok}END 0\n`, 10), [{ path: 'a/b.txt', size: 1, sha256: sha256('x') }]);
  assert.deepEqual(parseListing('BEGIN\nEND 0\n', 10), []);
  for (const [log, why] of [
    [`${ok}END 0\n`, /beginning/], // rotated away
    [`BEGIN\n${ok}`, /incomplete/],
    [`BEGIN\n${ok}END 1\n`, /failed/],
    [`BEGIN\n${ok}${ok}END 0\n`, /twice/],
    [`BEGIN\nF 1 ${sha256('x')} ${b64('../up')}\nEND 0\n`, /refused/],
    [`BEGIN\nF 1 ${sha256('x')} ${b64('/abs')}\nEND 0\n`, /refused/],
    [`BEGIN\nF 1 ${sha256('x')} ${b64('a\u0007b')}\nEND 0\n`, /refused/],
    [`BEGIN\nF 1 ${sha256('x')} ${Buffer.from([0xff, 0xfe]).toString('base64')}\nEND 0\n`, /not UTF-8/],
    [`BEGIN\nF 1 ${sha256('x')} YQ\nEND 0\n`, /malformed/], // base64 without its padding
    [`BEGIN\nF 01 ${sha256('x')} ${b64('a')}\nEND 0\n`, /malformed/],
    [`BEGIN\nF 1 ${sha256('x').toUpperCase()} ${b64('a')}\nEND 0\n`, /malformed/],
    [`BEGIN\nF 1 ${sha256('x')} ${b64('a')} extra\nEND 0\n`, /malformed/],
    [`BEGIN\nEND 0\n${ok}`, /malformed/],
  ] as const) {
    assert.throws(() => parseListing(log, 10), why, JSON.stringify(log));
  }
});

test('whatever the log, the parser returns only acceptable, unique paths, or throws', () => {
  const line = fc.oneof(
    fc.string(),
    fc.tuple(fc.nat(), fc.string()).map(([n, p]) => `F ${n} ${sha256(p)} ${b64(p)}`),
    fc.constant('END 0'),
    fc.constant('BEGIN'),
  );
  fc.assert(
    fc.property(fc.array(line, { maxLength: 12 }), (lines) => {
      let files;
      try {
        files = parseListing(['BEGIN', ...lines].join('\n'), 8);
      } catch {
        return;
      }
      assert.ok(files.length <= 8);
      assert.equal(new Set(files.map((f) => f.path)).size, files.length);
      for (const f of files) assert.equal(relativePathProblem(f.path), undefined, f.path);
    }),
  );
});
