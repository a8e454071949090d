import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { buildProgram } from '../../../src/cli/program';
import { repoRoot, startHost, type TestHost } from '../../../bench/support/host';
import { runCli, type CliResult } from '../../helpers/cli';

/** The `ledgerflow` CLI as a subprocess against a running embedded host: every command
 * with --json parsed, and the exit codes scripts rely on. */
const TOKENS = { uis: 'cli-tok-uis', uio: 'cli-tok-uio', uib: 'cli-tok-uib' } as const;
type Org = keyof typeof TOKENS;
const USERS: Record<Org, { user: string; org: string }> = {
  uis: { user: 'alice', org: 'uis' },
  uio: { user: 'bob', org: 'uio' },
  uib: { user: 'carol', org: 'uib' },
};

let host: TestHost;
let work: string;
let env: Record<string, string>;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'lf-cli-'));
  const tokens = Object.fromEntries(Object.entries(TOKENS).map(([org, token]) => [token, USERS[org as Org]]));
  host = await startHost({ settings: { LEDGERFLOW_TOKENS: JSON.stringify(tokens), LEDGER: 'embedded', KEY_STORE: 'file', STORAGE: 'local' } });
  env = { LEDGERFLOW_ENDPOINT: `${host.url}/api`, LEDGERFLOW_CONFIG: join(work, 'config.json') };
});
after(async () => {
  await host?.kill();
  rmSync(work, { recursive: true, force: true });
});

const as = (org: Org, ...args: string[]) => runCli(['--token', TOKENS[org], ...args], env);
const ok = (r: CliResult) => assert.equal(r.code, 0, `exit ${r.code}\n${r.stdout}\n${r.stderr}`);
/** stdout as JSON lines: one object a line, nothing else. */
const jsonLines = (r: CliResult) =>
  r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);
/** One clear line on stderr: `error: <code>: <message>`. */
const oneErrorLine = (r: CliResult, code: string) => assert.match(r.stderr.split('\n')[0] ?? '', new RegExp(`^error: ${code}: \\S`), r.stderr);

function dataDir(name: string, files: Record<string, string>): string {
  const dir = join(work, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

test('help and usage errors', async (t) => {
  await t.test('--help documents the exit codes, exit 0', async () => {
    const r = await runCli(['--help'], env);
    ok(r);
    assert.match(r.stdout, /Exit codes:/);
    assert.match(r.stdout, /4 {2}conflict/);
  });
  await t.test('unknown command, missing argument, bad option value: exit 2', async () => {
    assert.equal((await runCli(['nonsense'], env)).code, 2);
    assert.equal((await runCli(['datasets', 'show'], env)).code, 2);
    assert.equal((await runCli(['lease', 'take', 'x', '--ttl', 'soon'], env)).code, 2);
    assert.equal((await runCli(['workflows', 'run'], env)).code, 2);
  });
  await t.test('a request the server rejects as invalid: exit 2 with the field', async () => {
    const r = await as('uis', 'datasets', 'show', 'not-an-id');
    assert.equal(r.code, 2);
    oneErrorLine(r, 'validation_failed');
    assert.match(r.stderr, /id: must be a dataset id/);
  });
});

test('unauthorized and unavailable', async (t) => {
  await t.test('no token: exit 5 with a hint', async () => {
    const r = await runCli(['datasets', 'list'], env);
    assert.equal(r.code, 5);
    oneErrorLine(r, 'unauthenticated');
    assert.match(r.stderr, /LEDGERFLOW_TOKEN/);
  });
  await t.test('an unknown token: exit 5', async () => {
    assert.equal((await runCli(['--token', 'wrong', 'datasets', 'list'], env)).code, 5);
  });
  await t.test('nothing listening: exit 6', async () => {
    const r = await runCli(['--token', TOKENS.uis, '--endpoint', 'http://127.0.0.1:9/api', 'datasets', 'list'], env);
    assert.equal(r.code, 6);
    oneErrorLine(r, 'unavailable');
  });
});

test('config: file, precedence, mode 0600', async () => {
  const config = join(work, 'own-config.json');
  const cfgEnv = { LEDGERFLOW_CONFIG: config };
  ok(await runCli(['config', 'set', 'endpoint', `${host.url}/api`], cfgEnv));
  ok(await runCli(['config', 'set', 'token', TOKENS.uio], cfgEnv));
  assert.equal(statSync(config).mode & 0o777, 0o600);
  assert.deepEqual(JSON.parse(readFileSync(config, 'utf8')), { endpoint: `${host.url}/api`, token: TOKENS.uio });
  // Endpoint and token from the file alone.
  const shown = (await runCli(['--json', 'config', 'show'], cfgEnv)).json();
  assert.equal(shown.endpoint, `${host.url}/api`);
  assert.equal(shown.endpointFrom, 'file');
  assert.equal(shown.tokenFrom, 'file');
  assert.doesNotMatch(JSON.stringify(shown), new RegExp(TOKENS.uio));
  ok(await runCli(['datasets', 'list'], cfgEnv));
  // The environment wins over the file, the flag over the environment.
  assert.equal((await runCli(['datasets', 'list'], { ...cfgEnv, LEDGERFLOW_TOKEN: 'wrong' })).code, 5);
  ok(await runCli(['--token', TOKENS.uis, 'datasets', 'list'], { ...cfgEnv, LEDGERFLOW_TOKEN: 'wrong' }));
  assert.equal((await runCli(['config', 'set', 'colour', 'blue'], cfgEnv)).code, 2);
  assert.equal((await runCli(['config', 'set', 'endpoint', 'ftp://x'], cfgEnv)).code, 2);
  ok(await runCli(['config', 'unset', 'token'], cfgEnv));
  assert.deepEqual(JSON.parse(readFileSync(config, 'utf8')), { endpoint: `${host.url}/api` });
  assert.equal((await runCli(['--json', 'config', 'path'], cfgEnv)).json().path, config);
});

test('datasets, leases and history', async (t) => {
  const uisDir = dataDir('uis-data', { 'a.txt': 'lorem ipsum\n', 'sub/b.txt': 'dolor lorem\n', '.hidden': 'skip me\n' });
  let id = '';

  await t.test('register a directory: its files are uploaded (hidden ones skipped)', async () => {
    const r = await as('uis', '--json', 'datasets', 'register', uisDir, '--description', 'test data', '--lease-ttl', '10m', '--max-lease-ttl', '1h');
    ok(r);
    const d = r.json();
    assert.match(d.id, /^[0-9a-f]{32}$/);
    assert.equal(d.name, 'uis-data');
    assert.deepEqual(d.owner, USERS.uis);
    assert.deepEqual(d.policy, { leaseTtlSeconds: 600, maxLeaseTtlSeconds: 3600, approval: 'required', results: 'release' });
    id = d.id;
    const tree = (await as('uis', '--json', 'datasets', 'tree', id)).json();
    assert.deepEqual(
      tree.items
        .filter((e: { type: string }) => e.type === 'file')
        .map((e: { path: string }) => e.path)
        .sort(),
      ['a.txt', 'sub/b.txt'],
    );
  });

  await t.test('upload: the same from a directory, with a name', async () => {
    const dir = dataDir('uio-data', { 'r.txt': 'lorem\n' });
    const d = (await as('uio', '--json', 'datasets', 'upload', dir, '--name', 'reports')).json();
    assert.equal(d.name, 'reports');
    assert.deepEqual(d.owner, USERS.uio);
    const quiet = await as('uio', 'datasets', 'upload', dir, '-q');
    ok(quiet);
    assert.match(quiet.stdout, /^[0-9a-f]{32}\n$/);
  });

  await t.test('register refuses binary files and missing directories (exit 2)', async () => {
    const bin = join(work, 'bin-data');
    mkdirSync(bin);
    writeFileSync(join(bin, 'x.bin'), Buffer.from([0xff, 0xfe, 0x00, 0x80]));
    const r = await as('uis', 'datasets', 'register', bin);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /x\.bin is not UTF-8 text/);
    assert.equal((await as('uis', 'datasets', 'register', join(work, 'nope'))).code, 2);
  });

  await t.test('list and show', async () => {
    const list = (await as('uib', '--json', 'datasets', 'list')).json();
    assert.ok(list.items.some((d: { id: string }) => d.id === id));
    const mine = (await as('uib', '--json', 'datasets', 'list', '--owner', 'uis')).json();
    assert.ok(mine.items.every((d: { owner: { org: string } }) => d.owner.org === 'uis'));
    const shown = (await as('uib', '--json', 'datasets', 'show', id)).json();
    assert.equal(shown.id, id);
    assert.equal(shown.state, 'free');
    const table = await as('uib', 'datasets', 'list');
    ok(table);
    assert.match(table.stdout, /^ID +NAME +OWNER +STATE/);
  });

  await t.test('update: owner only', async () => {
    const d = (
      await as('uis', '--json', 'datasets', 'update', id, '--description', 'renamed', '--lease-ttl', '15m', '--approval', 'none', '--max-result-bytes', '5000')
    ).json();
    assert.equal(d.description, 'renamed');
    assert.deepEqual(d.policy, { leaseTtlSeconds: 900, maxLeaseTtlSeconds: 3600, approval: 'none', results: 'release', maxResultBytes: 5000 });
    assert.equal((await as('uis', 'datasets', 'update', id, '--results', 'maybe')).code, 2);
    assert.equal((await as('uis', 'datasets', 'update', id, '--max-result-bytes', '0')).code, 2);
    assert.equal((await as('uis', 'datasets', 'update', id, '--approval', 'maybe')).code, 2);
    assert.equal((await as('uio', 'datasets', 'update', id, '--name', 'mine')).code, 5);
    assert.equal((await as('uis', 'datasets', 'update', id)).code, 2);
  });

  await t.test('not found: exit 3', async () => {
    const r = await as('uis', 'datasets', 'show', '0'.repeat(32));
    assert.equal(r.code, 3);
    oneErrorLine(r, 'not_found');
    assert.equal((await as('uis', 'lease', 'take', 'f'.repeat(32))).code, 3);
  });

  await t.test('lease take, then a second taker: exit 4 naming the holder and expiry', async () => {
    const taken = await as('uio', '--json', 'lease', 'take', id, '--ttl', '5m');
    ok(taken);
    const lease = taken.json();
    assert.deepEqual(lease.holder, USERS.uio);
    const r = await as('uib', 'lease', 'take', id);
    assert.equal(r.code, 4);
    assert.equal(r.stderr, `error: lease_held: dataset ${id} is leased by bob@uio until ${lease.expiresAt}\n`);
    const j = await as('uib', '--json', 'lease', 'take', id);
    assert.equal(j.code, 4);
    assert.equal(j.json().error.code, 'lease_held');
    assert.equal(j.json().error.holder.user, 'bob');
    assert.equal(j.json().error.holder.org, 'uio');
    const shown = (await as('uib', '--json', 'lease', 'show', id)).json();
    assert.equal(shown.state, 'leased');
    assert.equal(shown.lease.expiresAt, lease.expiresAt);
  });

  await t.test('release by someone else: exit 5; by the holder: exit 0', async () => {
    assert.equal((await as('uib', 'lease', 'release', id)).code, 5);
    const r = await as('uio', '--json', 'lease', 'release', id);
    ok(r);
    assert.deepEqual(r.json(), { datasetId: id, released: true });
    assert.equal((await as('uio', '--json', 'lease', 'show', id)).json().lease, null);
  });

  await t.test('history: the ledger saw register, update, lease, release', async () => {
    const h = (await as('uib', '--json', 'history', id)).json();
    assert.equal(h.datasetId, id);
    assert.deepEqual(
      h.items.map((e: { action: string }) => e.action),
      ['registered', 'updated', 'leased', 'released'],
    );
  });

  await t.test('delete: owner only (exit 5 otherwise); crypto-shred reported', async () => {
    assert.equal((await as('uio', 'datasets', 'delete', id)).code, 5);
    const d = (await as('uis', '--json', 'datasets', 'delete', id)).json();
    assert.equal(d.state, 'deleted');
    assert.equal(d.cryptoShred.purged, true);
    const gone = await as('uis', 'datasets', 'show', id);
    assert.equal(gone.code, 3);
    oneErrorLine(gone, 'gone');
  });
});

test('datasets push and schedules: create, list, show, disable, enable, delete', async () => {
  const first = (await as('uis', '--json', 'datasets', 'register', dataDir('pushed-v1', { 'a.txt': 'v1\n' }))).json();
  assert.equal(first.version, 1);
  const v2Dir = dataDir('pushed-v2', { 'b.txt': 'new\n' });
  assert.equal((await as('uio', 'datasets', 'push', first.id, v2Dir)).code, 5, 'not the owner');
  const v2 = await as('uis', '--json', 'datasets', 'push', first.id, v2Dir);
  ok(v2);
  assert.equal(v2.json().version, 2);
  assert.match(v2.json().contentHash, /^[0-9a-f]{64}$/);
  ok(await as('uis', '--json', 'datasets', 'push', first.id, v2Dir, '--replace'));
  const tree = (await as('uis', '--json', 'datasets', 'tree', first.id)).json();
  assert.deepEqual(
    tree.items.map((e: { path: string }) => e.path),
    ['b.txt'],
  );

  const spec = join(dataDir('scheduled', { 'go.sh': 'cat /data/d/b.txt\n' }), 'workflow.yaml');
  writeFileSync(spec, `jobs:\n  - command: 'sh go.sh'\n    volumes:\n      - {id: '${first.id}', name: 'd', path: '/data/d'}\n`);
  assert.equal((await as('uis', 'schedules', 'create', '-f', spec)).code, 2, 'neither --cron nor --on-update');
  const created = await as('uis', '--json', 'schedules', 'create', '-f', spec, '--cron', '0 0 0 1 1 *', '--name', 'yearly');
  ok(created);
  const s = created.json();
  assert.equal(s.name, 'yearly');
  assert.equal(s.fileCount, 1, 'go.sh went with it');
  assert.equal((await as('uis', '--json', 'schedules', 'create', '-f', spec, '--on-update', first.id)).json().trigger.datasetUpdated, first.id);
  const listed = (await as('uis', '--json', 'schedules', 'list')).json();
  assert.equal(listed.items.length, 2);
  assert.equal((await as('uio', '--json', 'schedules', 'list')).json().items.length, 0);
  assert.equal((await as('uio', 'schedules', 'show', s.id)).code, 3);
  const shown = await as('uis', 'schedules', 'show', s.id);
  ok(shown);
  assert.match(shown.stdout, /on 0 0 0 1 1 \* \(UTC\)/);
  assert.equal((await as('uis', '--json', 'schedules', 'disable', s.id)).json().enabled, false);
  assert.equal((await as('uis', '--json', 'schedules', 'enable', s.id)).json().enabled, true);
  for (const item of listed.items as { id: string }[]) ok(await as('uis', 'schedules', 'delete', item.id));
  assert.equal((await as('uis', '--json', 'schedules', 'list')).json().items.length, 0);
});

test('workflows: client-side checks before any request', async (t) => {
  const dir = dataDir('wf', {
    'workflow.yaml': "jobs:\n  - command: 'python count.py'\n    volumes:\n      - {id: '', name: 'uis', path: '/data/uis'}\n",
    'count.py': 'print(1)\n',
  });
  await t.test('a volume without a dataset id: exit 2 naming it', async () => {
    const r = await as('uis', 'workflows', 'run', '-f', join(dir, 'workflow.yaml'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /volume "uis" of job 1 has no dataset id/);
  });
  await t.test('--dataset for a volume the spec does not have: exit 2', async () => {
    const r = await as('uis', 'workflows', 'run', '-f', join(dir, 'workflow.yaml'), '--dataset', 'uis=abc', '--dataset', 'uio=def');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--dataset uio: no volume of that name/);
  });
  await t.test('a missing workflow file: exit 2', async () => {
    assert.equal((await as('uis', 'workflows', 'run', '-f', join(dir, 'missing.yaml'))).code, 2);
  });
});

test('workflows against the host: run --watch, status, list, logs, download, cancel', async (t) => {
  const data = (await as('uis', '--json', 'datasets', 'register', dataDir('wf-uis', { 'a.txt': 'lorem lorem\n', 'b.txt': 'x lorem\n' }))).json();
  const dir = dataDir('wf-run', {
    'workflow.yaml':
      "jobs:\n  - command: 'python3 count.py'\n    name: count\n    volumes:\n      - {id: '', name: 'uis', path: '/data/uis'}\n  - command: 'cat count.txt; exit 3'\n    name: fail\ndags:\n  - count >> fail\n",
    'count.py':
      "import os\nn = sum(open(os.path.join('/data/uis', f)).read().count('lorem') for f in os.listdir('/data/uis'))\nopen('count.txt', 'w').write(str(n) + '\\n')\nprint('counted', n)\n",
    'ok.yaml': "jobs:\n  - command: 'python3 count.py'\n    volumes:\n      - {id: '', name: 'uis', path: '/data/uis'}\n",
    'slow.yaml': "jobs:\n  - command: 'sleep 30'\n",
    'lines.yaml': "jobs:\n  - command: 'seq 1 5'\n    name: lines\n",
  });
  assert.equal((await as('uis', 'workflows', 'list')).code, 0, 'the workflow routes answer');

  await t.test('not leased: exit 5, naming the volume', async () => {
    const r = await as('uis', 'workflows', 'run', '-f', join(dir, 'ok.yaml'), '--dataset', `uis=${data.id}`);
    assert.equal(r.code, 5);
    oneErrorLine(r, 'forbidden');
  });
  ok(await as('uis', 'lease', 'take', data.id));

  let okRun = '';
  let failedRun = '';
  await t.test('run --watch --json: the final view, exit 0; the code file uploaded', async () => {
    const r = await as('uis', '--json', 'workflows', 'run', '-f', join(dir, 'ok.yaml'), '--dataset', `uis=${data.id}`, '--watch');
    ok(r);
    const view = r.json();
    assert.equal(view.status, 'Succeeded');
    okRun = view.id;
    const file = await as('uis', 'workflows', 'download', okRun, 'count.txt');
    ok(file);
    assert.equal(file.stdout, '3\n');
  });

  await t.test('a failing run: exit 1, plain progress lines on change', async () => {
    const r = await as('uis', 'workflows', 'run', '-f', join(dir, 'workflow.yaml'), '--dataset', `uis=${data.id}`, '--watch');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /job 1 count: Succeeded after \S+ \(exit 0\)/);
    assert.match(r.stdout, /job 2 fail: Failed after \S+ \(exit 3\)/);
    assert.match(r.stdout, /workflow \S+: Failed/);
    const id = /submitted workflow (\S+)/.exec(r.stdout)?.[1] ?? '';
    failedRun = id;
    const status = await as('uis', '--json', 'workflows', 'status', id);
    ok(status);
    assert.deepEqual(
      status.json().jobs.map((j: { name: string; status: string; exitCode: number }) => [j.name, j.status, j.exitCode]),
      [
        ['count', 'Succeeded', 0],
        ['fail', 'Failed', 3],
      ],
    );
    assert.equal((await as('uis', 'workflows', 'status', id, '--watch')).code, 1);
    const logs = await as('uis', '--json', 'workflows', 'logs', id);
    ok(logs);
    assert.deepEqual(jsonLines(logs), [
      { workflowId: id, job: 'count', line: 'counted 3' },
      { workflowId: id, job: 'fail', line: '3' },
    ]);
    // -o json is --json, following too: one JSON object a line.
    const followedJson = await as('uis', 'workflows', 'logs', id, '-f', '-o', 'json');
    assert.equal(followedJson.code, 1);
    assert.deepEqual(jsonLines(followedJson), jsonLines(logs));
    const one = await as('uis', 'workflows', 'logs', id, 'count');
    assert.equal(one.stdout, 'counted 3\n');
    const followed = await as('uis', 'workflows', 'logs', id, '--follow');
    assert.equal(followed.code, 1);
    assert.equal(followed.stdout, '[count] counted 3\n[fail] 3\n');
    assert.equal((await as('uis', 'workflows', 'logs', id, 'nope')).code, 3);
  });

  await t.test('list, download -o, not found, cancel', async () => {
    const list = (await as('uis', '--json', 'workflows', 'list')).json();
    assert.ok(list.items.some((w: { id: string }) => w.id === okRun));
    assert.equal((await as('uio', '--json', 'workflows', 'list')).json().items.length, 0); // another organization's runs
    const out = join(work, 'count.txt');
    const saved = await as('uis', '--json', 'workflows', 'download', okRun, 'count.txt', '-o', out);
    ok(saved);
    assert.equal(saved.json().size, 2);
    assert.equal(readFileSync(out, 'utf8'), '3\n');
    assert.equal((await as('uis', 'workflows', 'download', okRun, 'missing.txt')).code, 3);
    assert.equal((await as('uis', 'workflows', 'status', 'no-such-run')).code, 3);
    assert.equal((await as('uio', 'workflows', 'status', okRun)).code, 3);
    const cancelDone = await as('uis', 'workflows', 'cancel', okRun);
    assert.equal(cancelDone.code, 4);
    oneErrorLine(cancelDone, 'conflict');
    const slow = await as('uis', 'workflows', 'run', '-f', join(dir, 'slow.yaml'), '-q');
    ok(slow);
    const id = slow.stdout.trim();
    ok(await as('uis', 'workflows', 'cancel', id));
    const watched = await as('uis', '--json', 'workflows', 'status', id, '--watch');
    assert.equal(watched.code, 1);
    assert.equal(watched.json().status, 'Canceled');
  });

  await t.test('wait: exit 0 when it Succeeded, 1 when it ended otherwise, 7 at --timeout', async () => {
    ok(await as('uis', 'workflows', 'wait', okRun));
    const waited = await as('uis', 'workflows', 'wait', okRun, '-o', 'yaml');
    ok(waited);
    assert.equal(parse(waited.stdout).status, 'Succeeded');
    assert.equal((await as('uis', 'workflows', 'wait', failedRun)).code, 1);
    const slow = (await as('uis', 'workflows', 'run', '-f', join(dir, 'slow.yaml'), '-q')).stdout.trim();
    const timedOut = await as('uis', 'workflows', 'wait', slow, '--timeout', '1s');
    assert.equal(timedOut.code, 7);
    oneErrorLine(timedOut, 'timeout');
    ok(await as('uis', 'workflows', 'cancel', slow));
    assert.equal((await as('uis', 'workflows', 'wait', slow)).code, 1);
    assert.equal((await as('uis', 'workflows', 'wait', slow, '--timeout', 'soon')).code, 2);
    assert.equal((await as('uis', 'workflows', 'wait', 'no-such-run')).code, 3);
  });

  await t.test('resubmit: the same spec and files as a new run; not for another organization', async () => {
    const r = await as('uis', '--json', 'workflows', 'resubmit', okRun);
    ok(r);
    const again = r.json();
    assert.notEqual(again.id, okRun);
    assert.equal(again.resubmittedFrom, okRun);
    ok(await as('uis', 'workflows', 'wait', again.id));
    assert.equal((await as('uis', 'workflows', 'download', again.id, 'count.txt')).stdout, '3\n');
    assert.equal((await as('uio', 'workflows', 'resubmit', okRun)).code, 3);
  });

  await t.test('-f - reads the workflow from stdin; its code files come from the current directory', async () => {
    const input = readFileSync(join(dir, 'ok.yaml'), 'utf8');
    const r = await runCli(['--token', TOKENS.uis, '--json', 'workflows', 'run', '-f', '-', '--dataset', `uis=${data.id}`, '--watch'], env, 60_000, {
      input,
      cwd: dir,
    });
    ok(r);
    assert.equal(r.json().status, 'Succeeded');
    assert.equal((await as('uis', 'workflows', 'download', r.json().id, 'count.txt')).stdout, '3\n');
    const empty = await runCli(['--token', TOKENS.uis, 'workflows', 'run', '-f', '-'], env, 60_000, { input: '', cwd: dir });
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /the workflow on stdin has no jobs list/);
  });

  await t.test('logs --tail: the last lines, from the server; as JSON lines; followed on from there', async () => {
    const id = (await as('uis', 'workflows', 'run', '-f', join(dir, 'lines.yaml'), '-q')).stdout.trim();
    ok(await as('uis', 'workflows', 'wait', id));
    assert.equal((await as('uis', 'workflows', 'logs', id, 'lines')).stdout, '1\n2\n3\n4\n5\n');
    assert.equal((await as('uis', 'workflows', 'logs', id, 'lines', '--tail', '2')).stdout, '4\n5\n');
    assert.deepEqual(jsonLines(await as('uis', 'workflows', 'logs', id, '--tail', '1', '-o', 'json')), [{ workflowId: id, job: 'lines', line: '5' }]);
    const followed = await as('uis', 'workflows', 'logs', id, 'lines', '-f', '--tail', '3');
    ok(followed);
    assert.equal(followed.stdout, '3\n4\n5\n');
    for (const bad of ['0', 'abc']) assert.equal((await as('uis', 'workflows', 'logs', id, '--tail', bad)).code, 2, bad);
    assert.equal((await as('uio', 'workflows', 'logs', id, 'lines', '--tail', '1')).code, 3); // another organization's run
    assert.equal((await as('uis', 'workflows', 'logs', id, '-o', 'wide')).code, 2);
  });

  await t.test('workflows list: --all follows nextCursor across pages; status -o yaml reads back as -o json', async () => {
    const names = (r: CliResult) => r.stdout.split('\n').filter((l) => l !== '');
    const one = (await as('uis', 'workflows', 'list', '--limit', '1', '-o', 'json')).json();
    assert.equal(one.items.length, 1);
    assert.equal(typeof one.nextCursor, 'string');
    const next = (await as('uis', 'workflows', 'list', '--limit', '1', '--cursor', one.nextCursor, '-o', 'json')).json();
    assert.notEqual(next.items[0].id, one.items[0].id);
    const all = await as('uis', 'workflows', 'list', '--limit', '1', '--all', '-o', 'name');
    ok(all);
    const everything = names(await as('uis', 'workflows', 'list', '--limit', '100', '-o', 'name'));
    assert.ok(everything.length >= 6, everything.join(','));
    assert.deepEqual(names(all).sort(), everything.sort());
    assert.ok(everything.includes(okRun));
    const json = await as('uis', 'workflows', 'status', okRun, '-o', 'json');
    assert.deepEqual(parse((await as('uis', 'workflows', 'status', okRun, '-o', 'yaml')).stdout), json.json());
    assert.equal((await as('uis', 'workflows', 'status', okRun, '-o', 'name')).stdout, `${okRun}\n`);
    assert.match((await as('uis', 'workflows', 'status', okRun, '-o', 'wide')).stdout, /STARTED +ENDED/);
    assert.match((await as('uis', 'workflows', 'list', '-o', 'wide')).stdout, /^ID +STATUS +JOBS +CREATED +TIME +UPDATED/);
  });

  await t.test('a spec the server rejects: exit 2 with every problem', async () => {
    writeFileSync(join(dir, 'bad.yaml'), "jobs:\n  - command: ''\ndags:\n  - 1 >> 9\n");
    const r = await as('uis', 'workflows', 'run', '-f', join(dir, 'bad.yaml'));
    assert.equal(r.code, 2);
    oneErrorLine(r, 'validation_failed');
    assert.match(r.stderr, /jobs\[0\]\.command: must not be empty/);
    assert.match(r.stderr, /dags\[0\]: unknown job 9/);
  });
});

test('output formats (-o json|yaml|wide|name) and paging (--limit, --cursor, --all) of datasets', async (t) => {
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await as('uib', 'datasets', 'register', dataDir(`page-${i}`, { 'x.txt': `${i}\n` }), '-q');
    ok(r);
    ids.push(r.stdout.trim());
  }
  const id = ids[0] ?? '';
  const lines = (r: CliResult) => r.stdout.split('\n').filter((l) => l !== '');

  await t.test('-o yaml reads back as the data -o json prints; --json is -o json', async () => {
    for (const args of [
      ['datasets', 'list', '--owner', 'uib'],
      ['datasets', 'show', id],
      ['datasets', 'tree', id],
      ['lease', 'show', id],
      ['history', id],
    ]) {
      const json = await as('uib', ...args, '-o', 'json');
      ok(json);
      const yaml = await as('uib', ...args, '-o', 'yaml');
      ok(yaml);
      assert.deepEqual(parse(yaml.stdout), json.json(), args.join(' '));
      assert.deepEqual((await as('uib', '--json', ...args)).json(), json.json(), args.join(' '));
    }
    const conflict = await as('uib', '--json', 'datasets', 'show', id, '-o', 'yaml');
    assert.equal(conflict.code, 2);
    oneErrorLine(conflict, 'usage');
    // An error in YAML too, when YAML was asked for.
    const missing = await as('uib', 'datasets', 'show', 'f'.repeat(32), '-o', 'yaml');
    assert.equal(missing.code, 3);
    assert.equal(parse(missing.stdout).error.code, 'not_found');
  });

  await t.test('-o name: one name a line; -o wide: more columns', async () => {
    const names = lines(await as('uib', 'datasets', 'list', '--owner', 'uib', '-o', 'name'));
    for (const d of ids) assert.ok(names.includes(d), d);
    assert.equal((await as('uib', 'datasets', 'show', id, '-o', 'name')).stdout, `${id}\n`);
    assert.deepEqual(lines(await as('uib', 'datasets', 'tree', id, '-o', 'name')), ['x.txt']);
    assert.match(
      (await as('uib', 'datasets', 'list', '--owner', 'uib', '-o', 'wide')).stdout,
      /^ID +NAME +OWNER +STATE +HOLDER +EXPIRES +APPROVAL +RESULTS +STORAGE/,
    );
    assert.match((await as('uib', 'history', id, '-o', 'wide')).stdout, /^TIME +ACTION +BY +TX +VALUE/);
    assert.equal((await as('uib', 'datasets', 'list', '-o', 'xml')).code, 2);
  });

  await t.test('--limit and --cursor page; --all follows nextCursor to the end', async () => {
    const first = (await as('uib', 'datasets', 'list', '--owner', 'uib', '--limit', '2', '-o', 'json')).json();
    assert.equal(first.items.length, 2);
    assert.equal(typeof first.nextCursor, 'string');
    const second = await as('uib', 'datasets', 'list', '--owner', 'uib', '--limit', '2', '--cursor', first.nextCursor);
    ok(second);
    assert.match(second.stderr, /more: ledgerflow datasets list --cursor \S+/);
    const everyone = lines(await as('uib', 'datasets', 'list', '--owner', 'uib', '--limit', '100', '-o', 'name'));
    const paged = await as('uib', 'datasets', 'list', '--owner', 'uib', '--limit', '2', '--all', '-o', 'json');
    ok(paged);
    assert.equal(paged.json().nextCursor, undefined);
    assert.deepEqual(
      paged
        .json()
        .items.map((d: { id: string }) => d.id)
        .sort(),
      [...everyone].sort(),
    );
    assert.ok(everyone.length >= 5);
  });

  await t.test('a bad --limit is refused by the CLI before any request (nothing listens here): exit 2', async () => {
    for (const bad of ['abc', '0', '-1', '1.5', '101']) {
      const r = await runCli(['--token', TOKENS.uib, '--endpoint', 'http://127.0.0.1:9/api', 'datasets', 'list', '--limit', bad], env);
      assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
      assert.match(r.stderr, /--limit/);
    }
    assert.equal((await runCli(['--token', TOKENS.uib, '--endpoint', 'http://127.0.0.1:9/api', 'workflows', 'list', '--limit', 'x'], env)).code, 2);
    assert.equal((await runCli(['--token', TOKENS.uib, '--endpoint', 'http://127.0.0.1:9/api', 'approvals', 'list', '--limit', '0'], env)).code, 2);
  });
});

test('completion: bash, zsh and fish scripts from the command tree', async () => {
  const verbs = buildProgram().commands.map((c) => c.name());
  const bash = await runCli(['completion', 'bash'], env);
  ok(bash);
  const file = join(work, 'completion.bash');
  writeFileSync(file, bash.stdout);
  assert.equal(spawnSync('bash', ['-n', file]).status, 0, 'bash -n');
  // What bash would offer after these words (the last one being completed).
  const complete = (...words: string[]) =>
    spawnSync(
      'bash',
      ['-c', 'source "$1"; COMP_WORDS=("${@:2}"); COMP_CWORD=$(($# - 2)); _ledgerflow; printf "%s\\n" "${COMPREPLY[@]}"', 'bash', file, ...words],
      {
        encoding: 'utf8',
      },
    )
      .stdout.split('\n')
      .filter((l) => l !== '');
  assert.deepEqual(complete('ledgerflow', ''), verbs);
  assert.deepEqual(complete('ledgerflow', 'workflows', 'l'), ['list', 'logs']);
  for (const verb of ['wait', 'resubmit', 'delete']) assert.ok(complete('ledgerflow', 'workflows', '').includes(verb), verb);
  assert.deepEqual(complete('ledgerflow', '--json', 'datasets', 'list', '-o', ''), ['json', 'yaml', 'wide', 'name']);
  const flags = complete('ledgerflow', 'datasets', 'list', '--');
  for (const flag of ['--limit', '--cursor', '--all', '--output', '--json', '--token']) assert.ok(flags.includes(flag), flag);

  const zsh = await runCli(['completion', 'zsh'], env);
  ok(zsh);
  assert.match(zsh.stdout, /^autoload -U \+X bashcompinit && bashcompinit\n/);
  const fish = await runCli(['completion', 'fish'], env);
  ok(fish);
  for (const verb of verbs) assert.match(fish.stdout, new RegExp(`^complete -c ledgerflow -n '__fish_use_subcommand' -a '${verb}' `, 'm'), verb);
  assert.match(fish.stdout, /-s o -l output -x -a 'json yaml wide name'/);
  assert.equal((await runCli(['completion', 'tcsh'], env)).code, 2);
});

test('approvals: run --watch waits in AwaitingApproval until the owner reviews and approves; reject ends a run', async () => {
  const data = (await as('uio', '--json', 'datasets', 'register', dataDir('ap-uio', { 'a.txt': 'lorem\n' }))).json();
  assert.equal(data.policy.approval, 'required');
  const dir = dataDir('ap-run', {
    'workflow.yaml': "jobs:\n  - command: 'python3 peek.py'\n    volumes:\n      - {id: '', name: 'uio', path: '/data/uio'}\n",
    'peek.py': "print(len(open('/data/uio/a.txt').read()))\n",
  });
  ok(await as('uis', 'lease', 'take', data.id));
  const watching = as('uis', 'workflows', 'run', '-f', join(dir, 'workflow.yaml'), '--dataset', `uio=${data.id}`, '--watch');

  const pending = await (async () => {
    for (let i = 0; i < 600; i++) {
      const list = (await as('uio', '--json', 'approvals', 'list', '--state', 'pending')).json();
      if (list.items.length > 0) return list.items[0];
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('no approval request appeared');
  })();
  assert.equal(pending.requester.org, 'uis');
  const shown = await as('uio', 'approvals', 'show', pending.workflowId);
  ok(shown);
  assert.match(shown.stdout, /--- workflow\.yaml\njobs:/);
  assert.match(shown.stdout, /--- peek\.py \(\d+ bytes, sha256 [0-9a-f]{64}\)\nprint\(len/);
  const refused = await as('uis', 'approvals', 'approve', pending.workflowId);
  assert.equal(refused.code, 5, 'the requester cannot approve');
  oneErrorLine(refused, 'forbidden');
  ok(await as('uio', 'approvals', 'approve', pending.workflowId, '--comment', 'reads one file'));
  const again = await as('uio', 'approvals', 'approve', pending.workflowId);
  assert.equal(again.code, 4);

  const watched = await watching;
  ok(watched);
  assert.match(watched.stdout, /workflow \S+: AwaitingApproval \(waiting for uio to approve/);
  assert.match(watched.stdout, /workflow \S+: Succeeded/);

  const second = await as('uis', 'workflows', 'run', '-f', join(dir, 'workflow.yaml'), '--dataset', `uio=${data.id}`, '-q');
  ok(second);
  const id = second.stdout.trim();
  for (let i = 0; i < 600 && (await as('uis', '--json', 'workflows', 'status', id)).json().approvals === undefined; i++)
    await new Promise((r) => setTimeout(r, 100));
  assert.equal((await as('uio', 'approvals', 'reject', id)).code, 2, '--reason is required');
  ok(await as('uio', 'approvals', 'reject', id, '--reason', 'prints the data'));
  const ended = await as('uis', '--json', 'workflows', 'status', id, '--watch');
  assert.equal(ended.code, 1);
  assert.equal(ended.json().status, 'Rejected');
  ok(await as('uis', 'lease', 'release', data.id));
});

test('results: the requester waits for the owner; workflows results, release, reject', async () => {
  const data = (
    await as('uio', '--json', 'datasets', 'register', dataDir('rv-uio', { 'a.txt': 'lorem\n' }), '--approval', 'none', '--results', 'review')
  ).json();
  assert.equal(data.policy.results, 'review');
  const dir = dataDir('rv-run', {
    'workflow.yaml': "jobs:\n  - command: 'wc -c /data/uio/a.txt > n.txt'\n    volumes:\n      - {id: '', name: 'uio', path: '/data/uio'}\n",
  });
  ok(await as('uis', 'lease', 'take', data.id));
  const run = async () => {
    const r = await as('uis', 'workflows', 'run', '-f', join(dir, 'workflow.yaml'), '--dataset', `uio=${data.id}`, '-q');
    ok(r);
    const id = r.stdout.trim();
    ok(await as('uis', 'workflows', 'status', id, '--watch'));
    return id;
  };
  const id = await run();
  const withheld = await as('uis', 'workflows', 'download', id, 'n.txt');
  assert.equal(withheld.code, 5);
  oneErrorLine(withheld, 'results_pending_review');
  const shown = await as('uio', 'workflows', 'results', id);
  ok(shown);
  assert.match(shown.stdout, /results: +pending-review/);
  assert.match(shown.stdout, /file +n\.txt +\d+ +[0-9a-f]{64}/);
  assert.equal((await as('uis', 'workflows', 'release', id)).code, 5, 'the requester cannot release');
  const released = (await as('uio', '--json', 'workflows', 'release', id)).json();
  assert.equal(released.state, 'released');
  assert.equal((await as('uio', 'workflows', 'release', id)).code, 4);
  const got = await as('uis', 'workflows', 'download', id, 'n.txt');
  ok(got);
  assert.match(got.stdout, /^6 \/data\/uio\/a\.txt/);

  const other = await run();
  assert.equal((await as('uio', 'workflows', 'reject', other)).code, 2, '--reason is required');
  const rejected = (await as('uio', '--json', 'workflows', 'reject', other, '--reason', 'no')).json();
  assert.equal(rejected.state, 'rejected');
  assert.equal((await as('uis', 'workflows', 'download', other, 'n.txt')).code, 5);
  ok(await as('uis', 'lease', 'release', data.id));
});

test("demo: the thesis experiments end to end, with this host's tokens", async () => {
  const tokens = Object.entries(TOKENS).flatMap(([org, token]) => ['--org-token', `${org}=${token}`]);
  // With the host's data dir, the demo also checks the parallel run's receipt against its ledger.
  const r = await runCli(['--json', 'demo', ...tokens, '--consumer', 'uio'], { ...env, LEDGERFLOW_DATA_DIR: host.dataDir });
  ok(r);
  const result = r.json();
  assert.equal(result.ok, true);
  assert.equal(result.receipt.verified, true);
  assert.ok(result.receipt.transactions >= 10, 'three leases, three approvals requested and decided, launch, finish, ...');
  assert.equal(result.parallel.total, 63);
  assert.equal(result.parallel.result, 'UiS: 22\nUiO: 23\nUiB: 18\nTotal: 63\n');
  assert.equal(result.linear.result, 'a.txt\nb.txt\nnotes.txt\nreport-2021.txt\nreport-2022.txt\n');
  assert.deepEqual(
    result.workflows.map((w: { status: string }) => w.status),
    ['Succeeded', 'Succeeded'],
  );
  // The leases went back: each dataset is free again.
  for (const id of Object.values(result.datasets) as string[]) assert.equal((await as('uib', '--json', 'lease', 'show', id)).json().lease, null);
});

test('render: the manifests a run would create, offline, as YAML or JSON', async () => {
  const examples = join(repoRoot, 'examples', 'thesis');
  const k8s = await runCli(['--json', 'render', '--target', 'k8s', '-f', join(examples, 'linear', 'workflow.yaml')], env);
  ok(k8s);
  const objects = k8s.json() as { kind: string; metadata: { name: string } }[];
  assert.equal(objects.filter((o) => o.kind === 'Job').length, 3);
  assert.equal(objects.filter((o) => o.kind === 'PersistentVolume').length, 2); // uis, uio
  assert.match(JSON.stringify(objects), /<from the key store at launch>/); // callback tokens are placeholders

  const argo = await runCli(['render', '--target', 'argo', '-f', join(examples, 'parallel', 'workflow.yaml'), '--dataset', `uis=${'a1'.repeat(16)}`], env);
  ok(argo);
  const docs = parseAllDocuments(argo.stdout).map(
    (d) =>
      d.toJS() as { kind: string; spec?: { templates?: { dag?: { tasks: { name: string; dependencies?: string[] }[] } }[] }; data?: Record<string, string> },
  );
  const workflow = docs.find((d) => d.kind === 'Workflow');
  const tasks = workflow?.spec?.templates?.find((t) => t.dag !== undefined)?.dag?.tasks ?? [];
  assert.deepEqual(
    tasks.map((t) => [t.name, t.dependencies ?? []]),
    [
      ['job-1', []],
      ['job-2', ['job-1']],
      ['job-3', ['job-1']],
      ['job-4', ['job-1']],
      ['job-5', ['job-2', 'job-3', 'job-4']],
    ],
  );
  const code = docs.find((d) => d.kind === 'ConfigMap')?.data ?? {};
  assert.ok(Object.values(code).includes(readFileSync(join(examples, 'parallel', 'uis.py'), 'utf8')));

  const bad = join(work, 'bad-render.yaml');
  writeFileSync(bad, "jobs:\n  - command: ''\ndags:\n  - 1 >> 4\n");
  const r = await runCli(['render', '--target', 'argo', '-f', bad], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /jobs\[0\]\.command: must not be empty/);
  assert.equal((await runCli(['render', '--target', 'helm', '-f', bad], env)).code, 2);

  // -n names the namespace; -f - reads the workflow from stdin, its code from the current directory.
  const parallel = join(examples, 'parallel');
  const input = readFileSync(join(parallel, 'workflow.yaml'), 'utf8');
  const namespaced = await runCli(['render', '--target', 'argo', '-f', '-', '-n', 'team-a', '-o', 'json'], env, 60_000, { input, cwd: parallel });
  ok(namespaced);
  const rendered = namespaced.json() as { kind: string; metadata: { namespace?: string }; data?: Record<string, string> }[];
  const namespaces = new Set(rendered.filter((o) => o.kind !== 'PersistentVolume').map((o) => o.metadata.namespace));
  assert.deepEqual([...namespaces], ['team-a']);
  assert.ok(rendered.some((o) => o.kind === 'ConfigMap' && Object.values(o.data ?? {}).includes(readFileSync(join(parallel, 'uis.py'), 'utf8'))));
  assert.equal((await runCli(['render', '--target', 'k8s', '-f', join(parallel, 'workflow.yaml'), '-n', 'Not_A_Namespace'], env)).code, 2);
});
