import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repoRoot, startHost, type TestHost } from '../../../bench/support/host';

/**
 * The README's "A first workflow" walkthrough, run as written: the block between the
 * `readme-walkthrough` markers goes to /bin/sh against a host configured with
 * local.settings.sample.json, as a new user's would be (only the host's address differs).
 */
const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const block = /<!-- readme-walkthrough: begin[^>]*-->\n```sh\n([\s\S]*?)\n```\n<!-- readme-walkthrough: end -->/.exec(readme)?.[1];
const curl = spawnSync('curl', ['--version'], { stdio: 'ignore' }).status === 0;
let host: TestHost;
const cwd = mkdtempSync(join(tmpdir(), 'lf-readme-'));

before(async () => {
  const sample = JSON.parse(readFileSync(join(repoRoot, 'local.settings.sample.json'), 'utf8')) as { Values: Record<string, string> };
  host = await startHost({ settings: sample.Values });
});
after(async () => {
  await host?.kill();
  rmSync(cwd, { recursive: true, force: true });
});

test('the README walkthrough runs as written and prints the result', { skip: curl ? false : 'curl is not installed' }, () => {
  assert.ok(block, 'the README has the walkthrough block');
  assert.match(block, /^LF=http:\/\/localhost:7071\/api$/m);
  const script = block.replace('http://localhost:7071', host.url);
  const r = spawnSync('/bin/sh', ['-e', '-c', script], {
    cwd,
    encoding: 'utf8',
    timeout: 120_000,
    env: { PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`, HOME: cwd },
  });
  assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /"holder":\{"user":"alice","org":"uis"\}/, 'the lease was taken');
  assert.match(r.stdout, /"status":"Succeeded","createdAt"/, 'the run succeeded');
  assert.match(r.stdout, /^lorem: 3$/m, 'the result file');
  const history = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { items: { action: string }[] };
  // Cleanup follows the run's end, so it may or may not be on the ledger yet.
  const actions = history.items.map((e) => e.action);
  assert.deepEqual(actions.slice(0, 6), ['registered', 'leased', 'approval-requested', 'approved', 'workflow-launched', 'workflow-finished']);
  assert.deepEqual(actions.slice(6), actions.length > 6 ? ['workflow-cleaned-up'] : []);
  assert.match(r.stdout, /"state":"approved"/, 'bob approved on the ledger');
});
