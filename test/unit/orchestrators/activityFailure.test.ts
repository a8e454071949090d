import { test } from 'node:test';
import assert from 'node:assert/strict';
import { publicFailure } from '../../../orchestrators/activities/define';
import type { ActivityDeps } from '../../../src/app/workflows/activityDeps';
import { LedgerflowError } from '../../../src/core/errors';

/** An activity's failure message reaches GET /workflows/{id}: host detail must stop here. */
function capture(): { deps: ActivityDeps; logged: unknown[] } {
  const logged: unknown[] = [];
  const log = { error: (fields: unknown) => logged.push(fields) };
  return { deps: { log } as unknown as ActivityDeps, logged };
}

test('a system error naming host paths reaches the orchestration as an internal error; the log keeps it whole', () => {
  const { deps, logged } = capture();
  const raw = Object.assign(new Error("ENOENT: no such file or directory, open '/var/lib/ledgerflow/datasets/ab12/x.csv'"), { code: 'ENOENT' });
  const out = publicFailure('launchJob', raw, deps);
  assert.equal(out.code, 'internal');
  assert.equal(out.message, 'internal error in launchJob (the host log has the details)');
  assert.ok(!`${out.message}${out.stack ?? ''}`.includes('/var/lib/ledgerflow'));
  assert.equal(logged.length, 1);
  assert.equal((logged[0] as { err: unknown }).err, raw);
});

test('typed errors pass as written for callers; a full disk stays insufficient_storage', () => {
  const { deps, logged } = capture();
  const typed = new LedgerflowError('forbidden', 'dataset d1 is not leased by the caller');
  assert.equal(publicFailure('launchJob', typed, deps), typed);
  assert.equal(logged.length, 0);
  const full = publicFailure('launchJob', Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }), deps);
  assert.equal(full.code, 'insufficient_storage');
});
