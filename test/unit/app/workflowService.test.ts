import type { ByteSource } from '../../../src/ports/compute';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LedgerflowError } from '../../../src/core/errors';
import type { WorkflowInput, WorkflowRunStatus } from '../../../src/core/workflow/run';
import { ResultsService } from '../../../src/app/workflows/resultsService';
import { WorkflowService } from '../../../src/app/workflows/workflowService';
import { submissionOf } from '../../../src/api/workflowRequests';
import { SqliteRunIndex } from '../../../src/adapters/runIndex/sqliteRunIndex';
import { FakeCompute, FakeLedger, FakeRuns, silentLog } from './fakes';

const alice = { user: 'alice', org: 'uis' };
const anna = { user: 'anna', org: 'uis' };
const bob = { user: 'bob', org: 'uio' };
const timing = { statusPollSeconds: 30, completionGraceSeconds: 60, watchdogSeconds: 300, defaultJobTimeoutSeconds: 600, defaultImage: 'img' };

function setup() {
  const runs = new FakeRuns();
  const ledger = new FakeLedger();
  const compute = new FakeCompute();
  let n = 0;
  const results = new ResultsService({ ledger, compute, runs, log: silentLog });
  const index = new SqliteRunIndex(':memory:');
  let clock = Date.parse('2026-06-01T00:00:00Z');
  const service = new WorkflowService({
    ledger,
    platform: { user: 'ledgerflow', org: 'platform' },
    compute,
    runs,
    results,
    index,
    cursorKey: async () => Buffer.alloc(32, 7),
    messages: { deleteFor: async () => 0 },
    timing,
    newId: () => `wf-${++n}`,
    now: () => new Date(clock++),
    log: silentLog,
  });
  return { runs, ledger, compute, service, index };
}

/** Dataset ids as the platform issues them (core/names.ts). */
const DS_UIS = 'a1'.repeat(16);
const DS_UIO = 'b2'.repeat(16);

const linear = `
jobs:
  - command: 'ls /home/jovyan/'
  - command: 'ls /home/jovyan/uis > result.txt'
    volumes:
      - {id: '${DS_UIS}', name: 'uis', path: '/home/jovyan/uis'}
  - command: 'ls /home/jovyan/uio >> result.txt'
    volumes:
      - {id: '${DS_UIO}', name: 'uio', path: '/home/jovyan/uio'}
dags:
  - 1 >> 2
  - 2 >> 3
`;

const rejects = (code: string, check?: (e: LedgerflowError) => void) => (err: unknown) => {
  assert.ok(err instanceof LedgerflowError, String(err));
  assert.equal(err.code, code);
  check?.(err);
  return true;
};

test('submit starts the run with spec and hash but without file contents, after preparing the workspace', async () => {
  const { runs, ledger, compute, service } = setup();
  ledger.lease(DS_UIS, alice);
  ledger.lease(DS_UIO, alice);
  const { id } = await service.submit(alice, { source: linear, files: { 'count.py': 'SECRET_CODE = 1' }, options: { releaseLeases: true } });
  assert.equal(id, 'wf-1');
  assert.deepEqual(compute.workspaces.get(id), { 'count.py': 'SECRET_CODE = 1' });
  const record = runs.records.get(id)!;
  assert.equal(record.name, 'workflowOrchestrator');
  const input = record.input as WorkflowInput;
  assert.equal(input.spec.jobs.length, 3);
  assert.equal(input.caller.user, 'alice');
  assert.match(input.filesHash, /^[0-9a-f]{64}$/);
  assert.deepEqual(
    input.review.files.map((f) => [f.path, f.size]),
    [['count.py', 15]],
  );
  assert.equal(input.review.workflow, linear);
  assert.equal(input.options.releaseLeases, true);
  assert.ok(!JSON.stringify(input).includes('SECRET_CODE'));
});

test('submit names the datasets of other organizations whose owners must approve; own and opted-out ones need none', async () => {
  const { ledger, runs, service } = setup();
  ledger.lease(DS_UIS, alice);
  ledger.lease(DS_UIO, alice);
  const dataset = (id: string, org: string, approval?: 'required' | 'none') => ({
    id,
    name: id,
    description: '',
    owner: { user: 'o', org, mspId: `${org}MSP` },
    storageKind: 'local' as const,
    sealedLocation: 's',
    policy: { leaseTtlSeconds: 60, maxLeaseTtlSeconds: 60, ...(approval === undefined ? {} : { approval }) },
    createdAt: '',
    updatedAt: '',
  });
  ledger.datasets.set(DS_UIS, dataset(DS_UIS, 'uis'));
  ledger.datasets.set(DS_UIO, dataset(DS_UIO, 'uio'));
  const first = await service.submit(alice, { source: linear, files: {}, options: { releaseLeases: false } });
  assert.deepEqual((runs.records.get(first.id)!.input as WorkflowInput).approvalDatasetIds, [DS_UIO]);
  assert.equal((await service.get(alice, first.id)).status, 'AwaitingApproval', 'shown before the run takes its first step');
  ledger.datasets.set(DS_UIO, dataset(DS_UIO, 'uio', 'none'));
  const second = await service.submit(alice, { source: linear, files: {}, options: { releaseLeases: false } });
  assert.deepEqual((runs.records.get(second.id)!.input as WorkflowInput).approvalDatasetIds, []);
  assert.equal((await service.get(alice, second.id)).status, 'Pending');
});

test('submit refuses every volume the caller has not leased, naming each with its path (403)', async () => {
  const { ledger, runs, service } = setup();
  ledger.lease(DS_UIS, bob);
  await assert.rejects(
    service.submit(alice, { source: linear, files: {}, options: { releaseLeases: false } }),
    rejects('forbidden', (e) => {
      assert.deepEqual(
        e.details?.map((d) => d.path),
        ['jobs[1].volumes[0].id', 'jobs[2].volumes[0].id'],
      );
    }),
  );
  assert.equal(runs.records.size, 0);
});

test('submit reports every spec error at once (400)', async () => {
  const { service } = setup();
  await assert.rejects(
    service.submit(alice, { source: 'jobs:\n  - command: ls\ndags:\n  - 1 >> 7\n  - 2 >> 1\n', files: {}, options: { releaseLeases: false } }),
    rejects('validation_failed', (e) => {
      assert.ok((e.details?.length ?? 0) >= 2, JSON.stringify(e.details));
    }),
  );
});

test('a run is visible to its organization only; to others it does not exist', async () => {
  const { runs, service } = setup();
  await runs.start('workflowOrchestrator', 'wf-9', {
    workflowId: 'wf-9',
    caller: alice,
    spec: { jobs: [{ index: 1, name: 'job-1', volumes: [] }], edges: [] },
  });
  const view = await service.get(anna, 'wf-9');
  assert.equal(view.status, 'Pending');
  assert.deepEqual(
    view.jobs.map((j) => [j.name, j.status]),
    [['job-1', 'Pending']],
  );
  await assert.rejects(service.get(bob, 'wf-9'), rejects('not_found'));
  await assert.rejects(service.cancel(bob, 'wf-9'), rejects('not_found'));
  await assert.rejects(service.get(alice, 'nope'), rejects('not_found'));
});

test("list pages newest first, filters by status, and shows only the caller's organization", async () => {
  const { runs, service } = setup();
  const status = (s: WorkflowRunStatus['status'], caller = alice): WorkflowRunStatus => ({ status: s, submittedBy: caller, datasetIds: [], jobs: [] });
  for (let i = 1; i <= 5; i++) {
    await runs.start('workflowOrchestrator', `wf-${i}`, { workflowId: `wf-${i}`, caller: alice, spec: { jobs: [], edges: [] } });
    runs.set(`wf-${i}`, { runtimeStatus: 'Completed', customStatus: status(i % 2 === 0 ? 'Failed' : 'Succeeded') });
  }
  await runs.start('workflowOrchestrator', 'wf-bob', { workflowId: 'wf-bob', caller: bob, spec: { jobs: [], edges: [] } });
  runs.set('wf-bob', { runtimeStatus: 'Running', customStatus: status('Running', bob) });
  await runs.start('jobOrchestrator', 'wf-1:job:job-1', {});
  await runs.start('workflowOrchestrator', 'wf-new', { workflowId: 'wf-new', caller: alice, spec: { jobs: [], edges: [] } }); // no status yet

  const first = await service.list(alice, { limit: 4 });
  assert.deepEqual(
    first.items.map((v) => v.id),
    ['wf-new', 'wf-5', 'wf-4', 'wf-3'],
  );
  const second = await service.list(alice, { limit: 4, cursor: first.nextCursor! });
  assert.deepEqual(
    second.items.map((v) => v.id),
    ['wf-2', 'wf-1'],
  );
  assert.equal(second.nextCursor, undefined);
  assert.deepEqual(
    (await service.list(alice, { limit: 10, status: 'Failed' })).items.map((v) => v.id),
    ['wf-4', 'wf-2'],
  );
  await assert.rejects(service.list(alice, { limit: 1, cursor: 'garbage' }), rejects('validation_failed'));
});

test('cancel raises `cancel` on a running run and refuses a finished one', async () => {
  const { runs, service } = setup();
  await runs.start('workflowOrchestrator', 'wf-1', { workflowId: 'wf-1', caller: alice, spec: { jobs: [], edges: [] } });
  runs.set('wf-1', { runtimeStatus: 'Running', customStatus: { status: 'Running', submittedBy: alice, datasetIds: [], jobs: [] } });
  await service.cancel(anna, 'wf-1');
  assert.deepEqual(
    runs.raised.map((r) => [r.instanceId, r.eventName]),
    [['wf-1', 'cancel']],
  );
  runs.set('wf-1', { runtimeStatus: 'Completed', customStatus: { status: 'Succeeded', submittedBy: alice, datasetIds: [], jobs: [] } });
  await assert.rejects(service.cancel(alice, 'wf-1'), rejects('conflict'));
});

test('logs come from the backend handle the job orchestration published; files from the workspace', async () => {
  const { runs, compute, service } = setup();
  await runs.start('workflowOrchestrator', 'wf-1', {
    workflowId: 'wf-1',
    caller: alice,
    spec: { jobs: [{ index: 1, name: 'count', volumes: [] }], edges: [] },
  });
  await assert.rejects(service.logs(alice, 'wf-1', 'count'), rejects('not_found'));
  await runs.start('jobOrchestrator', 'wf-1:job:count', {});
  runs.set('wf-1:job:count', { customStatus: { attempt: 2, handle: { backend: 'local', ref: 'wf-1/count-2' } } });
  assert.equal(await textOf(await service.logs(alice, 'wf-1', 'count')), 'log of wf-1/count-2\n');
  await assert.rejects(service.logs(alice, 'wf-1', 'other'), rejects('not_found'));
  await compute.prepareWorkspace('wf-1', { 'result.txt': '42\n' });
  assert.equal(await textOf(await service.file(alice, 'wf-1', 'result.txt')), '42\n');
  await assert.rejects(service.file(alice, 'wf-1', 'missing.txt'), rejects('not_found'));
  await assert.rejects(service.file(bob, 'wf-1', 'result.txt'), rejects('not_found'));
});

test('a submission is JSON {workflow, files, options} or the YAML alone', () => {
  const q = new URLSearchParams('releaseLeases=true');
  assert.deepEqual(submissionOf('application/yaml', 'jobs: [ls]', q), { source: 'jobs: [ls]', files: {}, options: { releaseLeases: true } });
  assert.deepEqual(
    submissionOf('application/json; charset=utf-8', JSON.stringify({ workflow: 'jobs: [ls]', files: { 'a/b.py': 'x' } }), new URLSearchParams()),
    { source: 'jobs: [ls]', files: { 'a/b.py': 'x' }, options: { releaseLeases: false } },
  );
  assert.throws(
    () => submissionOf('application/json', JSON.stringify({ workflow: 'x', files: { '../etc/passwd': 'x', '/abs': 'y' } }), q),
    rejects('validation_failed', (e) => {
      assert.equal(e.details?.length, 2);
    }),
  );
  assert.throws(() => submissionOf('image/png', '', q), rejects('unsupported_media_type'));
  assert.throws(() => submissionOf('application/json', '{', q), rejects('bad_request'));
});

async function textOf(source: ByteSource): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of source.read(0, source.size - 1)) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

test('listing reads the run index, never a scan of durable instances: two organizations, paging by cursor', async () => {
  const { runs, ledger, service, index } = setup();
  ledger.lease(DS_UIS, alice);
  ledger.lease(DS_UIO, alice);
  const mine: string[] = [];
  for (let i = 0; i < 5; i++) mine.unshift((await service.submit(alice, { source: linear, files: {}, options: { releaseLeases: false } })).id);
  const theirs = (await service.submit(bob, { source: 'jobs:\n  - command: "true"\n', files: {}, options: { releaseLeases: false } })).id;
  await index.markBackfilled(); // as after the first listing of an upgraded host
  let scans = 0;
  const list = runs.list.bind(runs);
  runs.list = async (s) => (scans++, list(s));

  const seen: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await service.list(anna, { limit: 2, ...(cursor !== undefined && { cursor }) });
    assert.ok(page.items.length <= 2);
    seen.push(...page.items.map((v) => v.id));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  assert.deepEqual(seen, mine, 'newest first, every run of the organization once');
  assert.deepEqual(
    (await service.list(bob, { limit: 10 })).items.map((v) => v.id),
    [theirs],
    'another organization sees only its own',
  );
  assert.equal(scans, 0, 'no listing of every durable instance');

  // A cursor is bound to the organization and the filter it was made for, and signed.
  const first = await service.list(alice, { limit: 1 });
  await assert.rejects(service.list(bob, { limit: 1, cursor: first.nextCursor! }), rejects('validation_failed'), "another organization's cursor");
  await assert.rejects(service.list(alice, { limit: 1, status: 'Failed', cursor: first.nextCursor! }), rejects('validation_failed'), 'another filter');
  const [payload, mac] = first.nextCursor!.split('.');
  const edited = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as { o: string };
  edited.o = 'uio';
  await assert.rejects(
    service.list(bob, { limit: 1, cursor: `${Buffer.from(JSON.stringify(edited)).toString('base64url')}.${mac}` }),
    rejects('validation_failed'),
    'an edited cursor',
  );
  await assert.rejects(
    service.list(alice, { limit: 1, cursor: `${payload}.${Buffer.alloc(32).toString('base64url')}` }),
    rejects('validation_failed'),
    'a forged signature',
  );
});

test('the index follows the durable status: a run that ended without telling it is corrected when read, and filters use it', async () => {
  const { runs, ledger, service, index } = setup();
  ledger.lease(DS_UIS, alice);
  ledger.lease(DS_UIO, alice);
  const { id } = await service.submit(alice, { source: linear, files: {}, options: { releaseLeases: false } });
  assert.equal((await index.get(id))?.status, 'Pending');
  runs.set(id, { runtimeStatus: 'Terminated' }); // ended without its last activity
  assert.deepEqual((await service.list(alice, { limit: 5, status: 'Pending' })).items, [], 'the listed page reads the durable status');
  assert.equal((await index.get(id))?.status, 'Canceled');
  assert.ok((await index.get(id))?.finishedAt !== undefined);
  assert.deepEqual(
    (await service.list(alice, { limit: 5, status: 'Canceled' })).items.map((v) => v.id),
    [id],
  );
  await index.setStatus(id, 'Running', new Date());
  assert.equal((await index.get(id))?.status, 'Canceled', 'a finished status is final');
});

test('a submit whose start fails leaves no row in the index', async () => {
  const { runs, service, index } = setup();
  runs.start = async () => {
    throw new Error('durable backend down');
  };
  await assert.rejects(service.submit(alice, { source: 'jobs:\n  - command: "true"\n', files: {}, options: { releaseLeases: false } }), /down/);
  assert.deepEqual(await index.page('uis', { limit: 10 }), []);
});
