import { SqliteRunIndex } from '../../../src/adapters/runIndex/sqliteRunIndex';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LedgerflowError } from '../../../src/core/errors';
import { callbackToken, callbackTokenMatches } from '../../../src/core/workflow/callbackToken';
import { acceptCompletion, bearerOf } from '../../../src/app/workflows/callbacks';
import { startCleanup } from '../../../src/app/workflows/queues';
import { deliverExitsInProcess } from '../../../src/app/workflows/exitDelivery';
import type { ExitDelivery } from '../../../src/ports/compute';
import { callbackKey, callbackUrl } from '../../../src/app/workflows/platform';
import { parseSettings } from '../../../src/config/settings';
import { InvocationContext } from '@azure/functions';
import { launchJob } from '../../../orchestrators/activities/jobs';
import { recordWorkflowLaunched } from '../../../orchestrators/activities/ledger';
import { cleanupCompute, releaseRunLeases } from '../../../orchestrators/activities/cleanupSteps';
import { FakeCompute, FakeLedger, FakeRuns, silentLog } from './fakes';

const key = Buffer.alloc(32, 1);
const report = { workflowId: 'wf-1', jobName: 'count', attempt: 2, exitCode: 0, endedAt: '2026-01-01T00:00:09.000Z' };

test('a completion report with the right token raises job-completed on the job orchestration', async () => {
  const runs = new FakeRuns();
  await acceptCompletion(report, callbackToken(key, 'wf-1', 'count', 2), key, runs);
  assert.deepEqual(runs.raised, [
    { instanceId: 'wf-1:job:count', eventName: 'job-completed', data: { attempt: 2, exitCode: 0, endedAt: '2026-01-01T00:00:09.000Z' } },
  ]);
});

test('a completion report with a token of another attempt, job or run, or none, is refused (401)', async () => {
  const runs = new FakeRuns();
  for (const token of [callbackToken(key, 'wf-1', 'count', 1), callbackToken(key, 'wf-1', 'other', 2), callbackToken(key, 'wf-2', 'count', 2), undefined]) {
    await assert.rejects(acceptCompletion(report, token, key, runs), (e: unknown) => e instanceof LedgerflowError && e.code === 'unauthenticated');
  }
  assert.equal(runs.raised.length, 0);
  assert.equal(bearerOf('Bearer abc'), 'abc');
  assert.equal(bearerOf('Basic abc'), undefined);
  assert.equal(bearerOf(null), undefined);
});

test('a cleanup message starts the cleanup once; a redelivery does nothing', async () => {
  const runs = new FakeRuns();
  const message = { workflowId: 'wf-1', caller: { user: 'alice', org: 'uis' }, status: 'Succeeded' as const, datasetIds: ['d'], releaseLeases: true };
  assert.equal(await startCleanup(message, runs, silentLog), 'started');
  assert.equal(await startCleanup(message, runs, silentLog), 'already');
  assert.deepEqual([...runs.records.keys()], ['wf-1:cleanup']);
  assert.equal(runs.records.get('wf-1:cleanup')!.name, 'cleanupOrchestrator');
});

test('the launch activity checks the lease, gives the backend the token and credential, and returns only the handle', async () => {
  const compute = new FakeCompute();
  const ledger = new FakeLedger();
  const alice = { user: 'alice', org: 'uis' };
  const input = {
    workflowId: 'wf-1',
    caller: alice,
    attempt: 3,
    image: 'img',
    timeoutSeconds: 60,
    job: {
      index: 2,
      name: 'count',
      command: 'python count.py',
      env: {},
      volumes: [{ id: 'ds-uis', name: 'uis', path: '/home/jovyan/uis' }],
      resources: {},
      retries: 0,
    },
  };
  const deps = {
    ledger,
    compute,
    log: silentLog,
    platform: { user: 'ledgerflow', org: 'uis' },
    now: () => new Date(),
    locateDataset: async () => ({
      location: { kind: 'azure-files' as const, shareUrl: 'https://x.file.core.windows.net/s', credentialRef: 'ds-uis-credential' },
      credential: 'sas-secret',
    }),
    callbackKey: async () => key,
    runIndex: new SqliteRunIndex(':memory:'),
    callbackUrl: () => 'http://127.0.0.1:1/api/callbacks/jobs',
  };
  assert.deepEqual(await launchJob.run(input, deps, new InvocationContext()), { leasesMissing: ['ds-uis'] }, 'no lease: no launch');
  assert.equal(compute.launched.length, 0);
  ledger.lease('ds-uis', alice);
  const result = await launchJob.run(input, deps, new InvocationContext());
  assert.deepEqual(result, { handle: { backend: 'local', ref: 'wf-1/count-3' } });
  assert.ok(!JSON.stringify(result).includes('sas-secret'));
  const [{ job, volumes }] = compute.launched as [(typeof compute.launched)[0]];
  assert.equal(volumes[0]!.credential, 'sas-secret');
  assert.deepEqual(job.volumes, [{ datasetId: 'ds-uis', name: 'uis', mountPath: '/home/jovyan/uis' }]);
  assert.ok(callbackTokenMatches(key, 'wf-1', 'count', 3, job.callback.token));
  assert.equal(job.callback.url, 'http://127.0.0.1:1/api/callbacks/jobs');
  assert.equal(job.timeoutSeconds, 60, 'a lease far from its end leaves the time limit alone');
  ledger.lease('ds-uis', alice, new Date(Date.now() + 20_000).toISOString());
  await launchJob.run({ ...input, attempt: 4 }, deps, new InvocationContext());
  const capped = compute.launched[1]!.job.timeoutSeconds;
  assert.ok(capped <= 20 + 10 && capped >= 29, `the backend's own limit ends the job 10 s after the lease: ${capped}`);
});

test('the callback key is created once and then reused; the callback URL follows the settings', async () => {
  const secrets = new Map<string, string>();
  const store = {
    get: async (n: string) => secrets.get(n),
    set: async (n: string, v: string) => {
      secrets.set(n, v);
    },
    destroy: async () => ({ purged: true }),
  };
  const first = await callbackKey(store);
  assert.equal(first.length, 32);
  assert.deepEqual(await callbackKey(store), first);
  assert.equal(callbackUrl(parseSettings({ LEDGERFLOW_PUBLIC_URL: 'https://lf.example.org/' }), {}), 'https://lf.example.org/api/callbacks/jobs');
  assert.equal(callbackUrl(parseSettings({}), { WEBSITE_HOSTNAME: '127.0.0.1:5000' }), 'http://127.0.0.1:5000/api/callbacks/jobs');
  assert.equal(callbackUrl(parseSettings({}), { WEBSITE_HOSTNAME: 'lf.azurewebsites.net' }), 'https://lf.azurewebsites.net/api/callbacks/jobs');
});

test('the launch activity guesses nothing from errors: a repeat is answered by the chaincode, a conflict is a failure', async () => {
  const refusing = (err: Error): FakeLedger => {
    const ledger = new FakeLedger();
    const as = ledger.as.bind(ledger);
    ledger.as = (caller) => ({
      ...as(caller),
      recordWorkflowLaunched: async () => {
        throw err;
      },
    });
    return ledger;
  };
  const deps = (ledger: FakeLedger) => ({
    ledger,
    compute: new FakeCompute(),
    log: silentLog,
    platform: { user: 'ledgerflow', org: 'uis' },
    now: () => new Date(),
    locateDataset: async () => {
      throw new Error('unused');
    },
    callbackKey: async () => key,
    runIndex: new SqliteRunIndex(':memory:'),
    callbackUrl: () => '',
  });
  const input = {
    caller: { user: 'alice', org: 'uis' },
    workflowId: 'wf-1',
    spec: {
      jobs: [{ index: 1, name: 'job-1', command: 'true', env: {}, volumes: [{ id: 'd1', name: 'd', path: '/d' }], resources: {}, retries: 0 }],
      edges: [],
    },
    filesHash: 'h',
    defaultImage: 'python:3.12-slim',
  };
  const endorse = Object.assign(new LedgerflowError('conflict', 'workflow wf-1 is already recorded with another launch'), { stage: 'endorse' });
  await assert.rejects(recordWorkflowLaunched.run(input, deps(refusing(endorse)), new InvocationContext()), /another launch/);
});

test("cleanup releases only the leases the submitter still holds, and compute cleanup is the backend's", async () => {
  const ledger = new FakeLedger();
  const alice = { user: 'alice', org: 'uis' };
  ledger.lease('held', alice);
  ledger.lease('taken-by-bob', { user: 'bob', org: 'uio' });
  ledger.lease('expired', alice, '2020-01-01T00:00:00.000Z');
  const compute = new FakeCompute();
  const deps = {
    ledger,
    compute,
    log: silentLog,
    platform: { user: 'ledgerflow', org: 'uis' },
    now: () => new Date(),
    locateDataset: async () => {
      throw new Error('unused');
    },
    callbackKey: async () => key,
    runIndex: new SqliteRunIndex(':memory:'),
    callbackUrl: () => '',
  };
  const result = await releaseRunLeases.run({ caller: alice, datasetIds: ['held', 'taken-by-bob', 'expired', 'never'] }, deps, new InvocationContext());
  assert.deepEqual(result, { released: ['held'] });
  assert.deepEqual(ledger.released, ['held']);
  await cleanupCompute.run({ workflowId: 'wf-1' }, deps, new InvocationContext());
  assert.deepEqual(compute.cleaned, ['wf-1']);
});

test('exits delivered in process raise job-completed as the callback does; another host run is left to the callback', async () => {
  let deliver: ExitDelivery | undefined;
  const compute = Object.assign(new FakeCompute(), {
    unreportedExits: async () => [],
    markReported: async () => undefined,
    deliverExitsTo: (d: ExitDelivery | undefined) => (deliver = d),
  });
  const runs = new FakeRuns();
  deliverExitsInProcess(compute, runs);
  assert.ok(deliver);
  assert.equal(await deliver({ ...report, message: 'killed by signal 9' }), true);
  assert.deepEqual(runs.raised, [
    {
      instanceId: 'wf-1:job:count',
      eventName: 'job-completed',
      data: { attempt: 2, exitCode: 0, endedAt: '2026-01-01T00:00:09.000Z', message: 'killed by signal 9' },
    },
  ]);

  // The SDK's sign of an unknown instance: not taken here, so the callback is tried.
  runs.raise = async (instanceId) => {
    throw new Error(`No instance with ID '${instanceId}' found`);
  };
  assert.equal(await deliver(report), false);
  runs.raise = async () => {
    throw new Error('connect ECONNREFUSED');
  };
  await assert.rejects(deliver(report), /ECONNREFUSED/);
  // A backend whose jobs report from elsewhere is left alone.
  deliverExitsInProcess(new FakeCompute(), runs);
});
