import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, fixtureApp, readJsonLines, startHost } from '../../../bench/support/host';

test('SIGTERM lets an in-flight request finish, runs appTerminate hooks, and exits 0', async (t) => {
  const outDir = mkdtempSync(join(tmpdir(), 'lf-out-'));
  t.after(() => rmSync(outDir, { recursive: true, force: true }));
  const host = await startHost({ entry: fixtureApp('basic'), settings: { FIXTURE_OUT_DIR: outDir } });
  t.after(() => host.kill());

  const slow = fetch(`${host.url}/api/slow?ms=1500`);
  await eventually(() => readJsonLines(join(outDir, 'slow.jsonl'))[0], 20_000, 'the slow request to start');
  const exitCode = host.stop('SIGTERM');

  const res = await slow;
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { slept: 1500 });
  assert.equal(await exitCode, 0);
  assert.deepEqual(
    readJsonLines(join(outDir, 'hooks.jsonl')).map((h) => h['hook']),
    ['appStart', 'appTerminate'],
  );
  await assert.rejects(fetch(`${host.url}/api/items/1`));
});
