import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, startHost, type TestHost } from '../../../bench/support/host';
import { parseRfc3339Nanos } from '../../../src/core/logTimes';
import { runCli, type CliResult } from '../../helpers/cli';

/**
 * `ledgerflow workflows logs --since/--timestamps` (with -f and -o json) as a subprocess
 * against an embedded host running the job in the real sandbox. The job waits for a file the
 * test writes once the supervisor's index covers its first lines, so its last line is in a
 * later chunk and a follower sees it in a later read: no timed assertion.
 */
const TOKEN = 'cli-logs-tok-uis';
let host: TestHost;
let env: Record<string, string>;
let id: string;
let follower: Promise<CliResult>;

const as = (...args: string[]) => runCli(['--token', TOKEN, ...args], env, 120_000);
const ok = (r: CliResult) => assert.equal(r.code, 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
const STAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z) (.*)$/;
/** `<time> <line>` lines, checked and split. */
function stamped(stdout: string): { time: string; line: string }[] {
  return stdout
    .split('\n')
    .slice(0, -1)
    .map((l) => {
      const m = STAMP.exec(l);
      assert.ok(m !== null && parseRfc3339Nanos(m[1]!) !== undefined, l);
      return { time: m[1]!, line: m[2]! };
    });
}

before(async () => {
  host = await startHost({
    settings: {
      LEDGERFLOW_TOKENS: JSON.stringify({ [TOKEN]: { user: 'alice', org: 'uis' } }),
      LEDGER: 'embedded',
      KEY_STORE: 'file',
      STORAGE: 'local',
      COMPUTE: 'local',
    },
  });
  env = { LEDGERFLOW_ENDPOINT: `${host.url}/api`, LEDGERFLOW_CONFIG: join(host.dataDir, 'cli-config.json') };
  const workflow = "jobs:\n  - command: 'echo one; echo two; while [ ! -e go ]; do sleep 0.05; done; echo three'\n    name: work\n";
  const r = await fetch(`${host.url}/api/workflows`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ workflow }),
  });
  assert.equal(r.status, 202);
  id = ((await r.json()) as { id: string }).id;
  // A follower with times from the start; it ends with the run.
  follower = as('workflows', 'logs', id, 'work', '-f', '--timestamps');
  const index = join(host.dataDir, 'runs', id, 'jobs', 'work-1', 'log.index');
  await eventually(() => (existsSync(index) && Number(readFileSync(index, 'latin1').split('\n').at(-2)?.split(' ')[0]) >= 8) || undefined, 60_000, 'the index');
  writeFileSync(join(host.dataDir, 'runs', id, 'workspace', 'go'), '', { mode: 0o644 });
  ok(await as('workflows', 'wait', id));
});
after(async () => {
  await host?.kill();
});

test('logs -f --timestamps: every line once, in order, each with its time', async () => {
  const r = await follower;
  ok(r);
  const lines = stamped(r.stdout);
  assert.deepEqual(
    lines.map((l) => l.line),
    ['one', 'two', 'three'],
  );
  const times = lines.map((l) => parseRfc3339Nanos(l.time)!);
  assert.ok(times[0]! <= times[1]! && times[1]! < times[2]!);
});

test('logs --timestamps, --since (a time and a duration), --tail with them', async () => {
  const all = await as('workflows', 'logs', id, 'work', '--timestamps');
  ok(all);
  const lines = stamped(all.stdout);
  assert.deepEqual(
    lines.map((l) => l.line),
    ['one', 'two', 'three'],
  );
  const since = await as('workflows', 'logs', id, 'work', '--since', lines[2]!.time);
  ok(since);
  assert.equal(since.stdout, 'three\n');
  const recent = await as('workflows', 'logs', id, 'work', '--since', '1h');
  assert.equal(recent.stdout, 'one\ntwo\nthree\n');
  const last = await as('workflows', 'logs', id, 'work', '--since', '1h', '--tail', '1', '--timestamps');
  assert.deepEqual(stamped(last.stdout), [lines[2]]);
  // Every started job, under its name.
  const jobs = await as('workflows', 'logs', id, '--since', lines[2]!.time);
  assert.equal(jobs.stdout, '==> work <==\nthree\n');
});

test('logs -o json: a time field with --timestamps only', async () => {
  const withTimes = await as('workflows', 'logs', id, 'work', '-o', 'json', '--timestamps');
  ok(withTimes);
  const objects = withTimes.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { workflowId: string; job: string; line: string; time: string });
  assert.deepEqual(
    objects.map((o) => [o.workflowId, o.job, o.line]),
    [
      [id, 'work', 'one'],
      [id, 'work', 'two'],
      [id, 'work', 'three'],
    ],
  );
  for (const o of objects) assert.ok(parseRfc3339Nanos(o.time) !== undefined, o.time);
  const since = await as('workflows', 'logs', id, 'work', '-o', 'json', '--since', '1d');
  assert.deepEqual(JSON.parse(since.stdout.split('\n')[0]!), { workflowId: id, job: 'work', line: 'one' });
});

test('logs --since: a bad value is a usage error (exit 2) before any request', async () => {
  for (const bad of ['soon', '5x', '2026-13-01T00:00:00Z']) {
    const r = await as('workflows', 'logs', id, 'work', '--since', bad);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--since/);
  }
});
