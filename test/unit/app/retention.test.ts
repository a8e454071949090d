import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteRunIndex } from '../../../src/adapters/runIndex/sqliteRunIndex';
import { purgeExpired, purgeRun } from '../../../src/app/workflows/retention';
import type { ResultsState } from '../../../src/core/model';
import type { WorkflowRunStatus } from '../../../src/core/workflow/run';
import { FakeCompute, FakeRuns, silentLog } from './fakes';

const alice = { user: 'alice', org: 'uis' };
const HOUR = 3_600_000;
const T0 = Date.parse('2026-06-01T00:00:00Z');

/** A run as the durable store holds it: workflow instance (+ one job, + cleanup when given). */
async function run(
  runs: FakeRuns,
  index: SqliteRunIndex,
  id: string,
  opts: { runtime: string; status: WorkflowRunStatus['status']; cleanup?: string; endedAt?: number },
) {
  await runs.start('workflowOrchestrator', id, { workflowId: id, caller: alice, spec: { jobs: [{ index: 1, name: 'job-1', volumes: [] }], edges: [] } });
  runs.set(id, { runtimeStatus: opts.runtime, customStatus: { status: opts.status, submittedBy: alice, datasetIds: [], jobs: [] } });
  await runs.start('jobOrchestrator', `${id}:job:job-1`, {});
  if (opts.cleanup !== undefined) {
    await runs.start('cleanupOrchestrator', `${id}:cleanup`, {});
    runs.set(`${id}:cleanup`, { runtimeStatus: opts.cleanup });
  }
  await index.add({ id, org: 'uis', user: 'alice', createdAt: new Date(T0).toISOString(), status: 'Pending', datasetIds: [] });
  if (opts.endedAt !== undefined) await index.setStatus(id, opts.status, new Date(opts.endedAt));
}

function setup(now: number) {
  const runs = new FakeRuns();
  const index = new SqliteRunIndex(':memory:');
  const compute = new FakeCompute();
  const purged: string[] = [];
  compute.cleanup = async (id: string) => void purged.push(id);
  const results = new Map<string, ResultsState>();
  const deps = {
    index,
    runs,
    compute,
    messages: { deleteFor: async () => 0 },
    log: silentLog,
    now: () => new Date(now),
    resultsState: async (id: string) => results.get(id),
  };
  return { runs, index, compute, purged, deps, results };
}

test('retention purges finished runs past the age, and holds a running run, a run still cleaning up and a young one', async () => {
  const { runs, index, purged, deps } = setup(T0 + 10 * HOUR);
  await index.markBackfilled();
  await run(runs, index, 'old', { runtime: 'Completed', status: 'Succeeded', cleanup: 'Completed', endedAt: T0 + HOUR });
  await run(runs, index, 'crashed', { runtime: 'Failed', status: 'Running' }); // ended without telling the index
  await run(runs, index, 'cleaning', { runtime: 'Completed', status: 'Failed', cleanup: 'Running', endedAt: T0 + HOUR });
  await run(runs, index, 'running', { runtime: 'Running', status: 'Running' });
  await run(runs, index, 'young', { runtime: 'Completed', status: 'Succeeded', cleanup: 'Completed', endedAt: T0 + 9.5 * HOUR });

  const pass = await purgeExpired(deps, 2 * HOUR);
  assert.deepEqual(pass.purged.sort(), ['old']);
  assert.deepEqual(pass.held, ['cleaning']);
  assert.deepEqual(purged, ['old'], 'workspace removed for the purged run only');
  assert.equal(runs.records.has('old'), false);
  assert.equal(runs.records.has('old:job:job-1'), false);
  assert.equal(runs.records.has('old:cleanup'), false);
  assert.equal(await index.get('old'), undefined);
  for (const kept of ['cleaning', 'running', 'young']) assert.ok(runs.records.has(kept) && (await index.get(kept)) !== undefined, kept);
  // The crashed run is now known to have ended (from this pass on): a later pass purges it.
  assert.equal((await index.get('crashed'))?.status, 'Failed');
  const later = await purgeExpired({ ...deps, now: () => new Date(T0 + 13 * HOUR) }, 2 * HOUR);
  assert.ok(later.purged.includes('crashed') && later.purged.includes('young'));
  assert.equal(runs.records.has('running'), true);

  await assert.rejects(purgeRun(deps, 'running'), /cannot be deleted yet: it is Running/);
  assert.deepEqual(await purgeExpired(deps, 0), { purged: [], held: [] }, '0 keeps everything');
});

test("outputs that await their owners' review are held: neither retention nor a DELETE decides for the owners", async () => {
  const { runs, index, purged, deps, results } = setup(T0 + 10 * HOUR);
  await index.markBackfilled();
  await run(runs, index, 'reviewing', { runtime: 'Completed', status: 'Succeeded', cleanup: 'Completed', endedAt: T0 + HOUR });
  await run(runs, index, 'released', { runtime: 'Completed', status: 'Succeeded', cleanup: 'Completed', endedAt: T0 + HOUR });
  results.set('reviewing', 'pending-review');
  results.set('released', 'released');
  const pass = await purgeExpired(deps, 2 * HOUR);
  assert.deepEqual(pass.purged, ['released']);
  assert.deepEqual(pass.held, ['reviewing']);
  assert.deepEqual(purged, ['released']);
  await assert.rejects(purgeRun(deps, 'reviewing'), /cannot be deleted yet: its outputs await their owners' review/);
  results.set('reviewing', 'rejected');
  assert.deepEqual((await purgeExpired(deps, 2 * HOUR)).purged, ['reviewing'], 'once decided, retention applies');
});

test('an index row without a run is removed only once it is old (a start may be in progress)', async () => {
  const { index, deps } = setup(T0 + 30 * 60_000);
  await index.markBackfilled();
  await index.add({ id: 'starting', org: 'uis', user: 'alice', createdAt: new Date(T0).toISOString(), status: 'Pending', datasetIds: [] });
  assert.deepEqual((await purgeExpired(deps, 60_000)).purged, []);
  assert.deepEqual((await purgeExpired({ ...deps, now: () => new Date(T0 + 2 * HOUR) }, 60_000)).purged, ['starting']);
});
