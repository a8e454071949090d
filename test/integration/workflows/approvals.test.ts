import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { durableFetch } from '../../../bench/support/durableApi';
import { eventually } from '../../../bench/support/host';
import { approvalDecided, approvalPage, approvalReview, workflowView } from '../../../src/api/schemas';
import { filesHash } from '../../../src/core/workflow/hash';
import { parseWorkflowSpec } from '../../../src/core/workflow/spec';
import type { WorkflowInput } from '../../../src/core/workflow/run';
import { DatasetsApi, type Who } from '../datasets/client';

/**
 * Owner consent over HTTP on one embedded host: alice (uis) leases bob's (uio) and carol's
 * (uib) datasets; her runs wait until each owner approves that exact workflow. Every route
 * is driven as a client would, for each status code it promises; and the chaincode, not the
 * API, is shown to be the referee: forged orchestrations and forged approval events end in
 * a refused launch.
 */
let api: DatasetsApi;
const ds = { uio: '', uib: '', short: '' };
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const sleepJob = (id: string, name: string, command = `ls /data/${name} > ${name}.txt`) =>
  `  - command: '${command}'\n    volumes:\n      - {id: '${id}', name: '${name}', path: '/data/${name}'}\n`;
const both = () => `jobs:\n${sleepJob(ds.uio, 'uio')}${sleepJob(ds.uib, 'uib')}dags:\n  - 1 >> 2\n`;
const onlyUio = (tag: string) => `jobs:\n${sleepJob(ds.uio, 'uio', `echo ${tag} > out.txt`)}`;
const FINISHED = ['Succeeded', 'Failed', 'Canceled', 'Rejected'];

before(async () => {
  api = await DatasetsApi.start({ COMPUTE: 'local', WORKFLOW_STATUS_POLL_SECONDS: '2', LEASE_EXPIRY_SCHEDULE: '*/1 * * * * *' });
  for (const [key, who, extra] of [
    ['uio', 'bob', {}],
    ['uib', 'carol', {}],
    ['short', 'bob', {}],
  ] as const) {
    const r = await api.call(who, 'POST', '/datasets', { name: `${key}-data`, files: { 'a.txt': 'lorem' }, ...extra });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.policy.approval, 'required', 'required by default');
    ds[key] = r.body.id;
  }
  for (const id of [ds.uio, ds.uib]) assert.equal((await api.call('alice', 'POST', `/datasets/${id}/lease`, { ttlSeconds: 3000 })).status, 201);
});
after(async () => {
  await api?.host.kill();
});

async function submit(workflow: string, files: Record<string, string> = {}): Promise<string> {
  const r = await api.call('alice', 'POST', '/workflows', { workflow, files });
  assert.equal(r.status, 202, r.text);
  return r.body.id as string;
}
async function status(id: string, who: Who = 'alice') {
  const r = await api.call(who, 'GET', `/workflows/${id}`);
  assert.equal(r.status, 200, r.text);
  return workflowView.parse(r.body);
}
const awaiting = (id: string) =>
  eventually(
    async () => {
      const run = await status(id);
      return run.status === 'AwaitingApproval' && run.approvals !== undefined ? run : undefined;
    },
    60_000,
    `workflow ${id} to await approval`,
  );
const finished = (id: string) =>
  eventually(
    async () => {
      const run = await status(id);
      return FINISHED.includes(run.status) ? run : undefined;
    },
    120_000,
    `workflow ${id} to finish`,
  );

test('every approval route refuses a caller without credentials (401)', async () => {
  for (const [method, path] of [
    ['GET', '/approvals'],
    ['GET', '/approvals/x'],
    ['GET', '/approvals/x/files/a.py'],
    ['POST', '/approvals/x/approve'],
    ['POST', '/approvals/x/reject'],
  ] as const) {
    const r = await api.call(null, method, path, method === 'POST' ? { reason: 'r' } : undefined);
    assert.equal(r.status, 401, `${method} ${path}`);
  }
});

test("a run on two owners' datasets waits for both, shows the owners exactly what runs, then runs", async () => {
  const files = { 'count.py': 'print(open("/data/uio/a.txt").read().count("lorem"))\n' };
  const id = await submit(both(), files);
  const waiting = await awaiting(id);
  assert.deepEqual(
    waiting.jobs.map((j) => j.status),
    ['Pending', 'Pending'],
  );
  assert.deepEqual(
    waiting.approvals?.map((a) => [a.datasetId, a.owner, a.state]),
    [
      [ds.uio, 'uio', 'pending'],
      [ds.uib, 'uib', 'pending'],
    ],
  );

  // Each owner lists the request on its own dataset; the requester's organization owns none.
  const bobs = approvalPage.parse((await api.call('bob', 'GET', '/approvals?state=pending')).body);
  assert.deepEqual(
    bobs.items.filter((i) => i.workflowId === id).map((i) => [i.datasetId, i.requester.user, i.state]),
    [[ds.uio, 'alice', 'pending']],
  );
  assert.deepEqual(approvalPage.parse((await api.call('alice', 'GET', '/approvals')).body).items, []);

  // The review: the YAML as submitted, every file with its digest and text.
  const review = approvalReview.parse((await api.call('bob', 'GET', `/approvals/${id}`)).body);
  assert.equal(review.workflow, both());
  assert.deepEqual(review.files, [{ path: 'count.py', size: files['count.py'].length, sha256: sha256(files['count.py']), content: files['count.py'] }]);
  assert.equal(review.filesHash, filesHash(files));
  assert.deepEqual(
    review.datasets.map((d) => [d.id, d.owner, d.state]),
    [
      [ds.uio, 'uio', 'pending'],
      [ds.uib, 'uib', 'pending'],
    ],
  );
  assert.equal((await api.call('alice2', 'GET', `/approvals/${id}`)).status, 200, "the requester's organization reads it too");

  assert.equal((await api.call('alice', 'POST', `/approvals/${id}/approve`, {})).status, 403, 'the requester cannot approve');
  assert.equal((await api.call('bob', 'POST', `/approvals/${id}/reject`, {})).status, 400, 'a reason is required');
  assert.equal((await api.call('bob', 'POST', `/approvals/${id}/reject`, { reason: 'x'.repeat(1001) })).status, 400);
  assert.equal((await api.call('bob', 'POST', `/approvals/${id}/approve`, { reuse: 'yes' })).status, 400);

  const approved = await api.call('bob', 'POST', `/approvals/${id}/approve`, { comment: 'reads one file' });
  assert.equal(approved.status, 200, approved.text);
  assert.deepEqual(
    approvalDecided.parse(approved.body).items.map((i) => [i.datasetId, i.state, i.decidedBy?.user, i.comment]),
    [[ds.uio, 'approved', 'bob', 'reads one file']],
  );
  assert.equal((await api.call('bob', 'POST', `/approvals/${id}/approve`, {})).status, 409, 'already decided');
  assert.equal((await api.call('bob', 'POST', `/approvals/${id}/reject`, { reason: 'changed my mind' })).status, 409);
  assert.equal((await status(id)).status, 'AwaitingApproval', 'carol has not decided');

  assert.equal((await api.call('carol', 'POST', `/approvals/${id}/approve`, { reuse: true })).status, 200);
  const run = await finished(id);
  assert.equal(run.status, 'Succeeded', JSON.stringify(run));
  assert.equal((await api.call('carol', 'POST', `/approvals/${id}/approve`, {})).status, 409, 'the run no longer waits');

  const history = await api.call('bob', 'GET', `/datasets/${ds.uio}/history`);
  const actions = (history.body.items as { action: string }[]).map((e) => e.action);
  for (const a of ['approval-requested', 'approved', 'workflow-launched']) assert.ok(actions.includes(a), `${a} in ${actions.join()}`);
  assert.ok(actions.indexOf('approved') < actions.indexOf('workflow-launched'));

  // carol's reuse covers the same spec and files under the same lease: only bob is asked again.
  const again = await submit(both(), files);
  const second = await awaiting(again);
  assert.deepEqual(
    second.approvals?.map((a) => [a.owner, a.state]),
    [
      ['uio', 'pending'],
      ['uib', 'approved'],
    ],
  );
  // Changed code is another workflow: carol is asked again.
  const changed = await submit(both(), { 'count.py': 'print("changed")\n' });
  assert.deepEqual(
    (await awaiting(changed)).approvals?.map((a) => a.state),
    ['pending', 'pending'],
  );
  for (const wf of [again, changed]) assert.equal((await api.call('alice', 'POST', `/workflows/${wf}/cancel`)).status, 202);
});

test('a rejection ends the run as Rejected with nothing launched; outsiders see nothing (404)', async () => {
  const id = await submit(onlyUio('rejected'));
  await awaiting(id);
  assert.equal((await api.call('carol', 'GET', `/approvals/${id}`)).status, 404, 'carol owns no dataset of this run');
  assert.equal((await api.call('carol', 'POST', `/approvals/${id}/approve`, {})).status, 404);
  assert.equal((await api.call('bob', 'GET', '/approvals/no-such-run')).status, 404);
  const r = await api.call('bob', 'POST', `/approvals/${id}/reject`, { reason: 'the output would include raw records' });
  assert.equal(r.status, 200, r.text);
  const run = await finished(id);
  assert.equal(run.status, 'Rejected');
  assert.match(run.message ?? '', /raw records/);
  assert.deepEqual(
    run.jobs.map((j) => [j.status, j.startedAt]),
    [['Canceled', null]],
  );
  assert.equal((await api.call('bob', 'POST', `/approvals/${id}/approve`, {})).status, 409);
  const history = await api.call('bob', 'GET', `/datasets/${ds.uio}/history`);
  assert.ok(
    !(history.body.items as { action: string; value?: { workflowId?: string } }[]).some((e) => e.action === 'workflow-launched' && e.value?.workflowId === id),
  );
});

test('cancel works while a run awaits approval; deciding afterwards is a conflict', async () => {
  const id = await submit(onlyUio('canceled'));
  await awaiting(id);
  assert.equal((await api.call('alice', 'POST', `/workflows/${id}/cancel`)).status, 202);
  const run = await finished(id);
  assert.equal(run.status, 'Canceled');
  assert.deepEqual(
    run.jobs.map((j) => j.status),
    ['Canceled'],
  );
  assert.equal((await api.call('bob', 'POST', `/approvals/${id}/approve`, {})).status, 409);
});

test('a lease that ends while the run awaits approval cancels it', async () => {
  assert.equal((await api.call('alice', 'POST', `/datasets/${ds.short}/lease`, { ttlSeconds: 4 })).status, 201);
  const id = await submit(`jobs:\n${sleepJob(ds.short, 'short')}`);
  // No wait for AwaitingApproval first: under load the 4 s may be over before it shows.
  const run = await finished(id);
  assert.equal(run.status, 'Canceled');
  assert.deepEqual(
    run.approvals?.map((a) => a.state),
    ['pending'],
    'it was still waiting for bob',
  );
  assert.deepEqual(
    run.jobs.map((j) => [j.status, j.startedAt]),
    [['Canceled', null]],
  );
});

test('GET /approvals pages newest first with a cursor, filters by state, and refuses a bad cursor', async () => {
  const ids = [await submit(onlyUio('p1')), await submit(onlyUio('p2')), await submit(onlyUio('p3'))];
  for (const id of ids) await awaiting(id);
  const seen: string[] = [];
  let cursor: string | undefined;
  do {
    const r = await api.call('bob', 'GET', `/approvals?state=pending&limit=2${cursor === undefined ? '' : `&cursor=${cursor}`}`);
    assert.equal(r.status, 200, r.text);
    const page = approvalPage.parse(r.body);
    assert.ok(page.items.length <= 2);
    assert.ok(page.items.every((i) => i.state === 'pending'));
    seen.push(...page.items.map((i) => i.workflowId));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  assert.equal(new Set(seen).size, seen.length, 'no request twice');
  for (const id of ids) assert.ok(seen.includes(id));
  assert.deepEqual(
    seen.filter((id) => ids.includes(id)),
    [...ids].reverse(),
    'newest first',
  );
  const rejected = approvalPage.parse((await api.call('bob', 'GET', '/approvals?state=rejected')).body);
  assert.ok(rejected.items.length >= 1 && rejected.items.every((i) => i.state === 'rejected' && i.reason !== undefined));
  assert.equal((await api.call('bob', 'GET', '/approvals?cursor=bm90LWEtY3Vyc29y')).status, 400);
  assert.equal((await api.call('bob', 'GET', '/approvals?state=maybe')).status, 400);
  for (const id of ids) await api.call('alice', 'POST', `/workflows/${id}/cancel`);
});

test('a file over 1 MiB is listed with its digest and served by its own route', async () => {
  const big = 'x'.repeat(1024 * 1024 + 10);
  const id = await submit(onlyUio('big'), { 'model.txt': big, 'small.py': 'print(1)\n' });
  await awaiting(id);
  const review = approvalReview.parse((await api.call('bob', 'GET', `/approvals/${id}`)).body);
  const listed = review.files.find((f) => f.path === 'model.txt')!;
  assert.deepEqual([listed.size, listed.sha256, listed.content], [big.length, sha256(big), undefined]);
  assert.equal(review.files.find((f) => f.path === 'small.py')?.content, 'print(1)\n');
  const res = await fetch(`${api.host.url}/api/approvals/${id}/files/model.txt`, { headers: { authorization: 'Bearer tok-bob-uio-5e6f70' } });
  assert.equal(res.status, 200);
  assert.equal(sha256(await res.text()), sha256(big));
  assert.equal((await api.call('bob', 'GET', `/approvals/${id}/files/nothing.txt`)).status, 404);
  assert.equal((await api.call('carol', 'GET', `/approvals/${id}/files/model.txt`)).status, 404);
  await api.call('alice', 'POST', `/workflows/${id}/cancel`);
});

test('the chaincode refuses forged launches: an orchestration started with an unapproved spec, and a forged approval event', async () => {
  // A run whose owner approved one spec ...
  const approvedId = await submit(onlyUio('approved-spec'));
  await awaiting(approvedId);
  assert.equal((await api.call('bob', 'POST', `/approvals/${approvedId}/approve`, { reuse: true })).status, 200);
  assert.equal((await finished(approvedId)).status, 'Succeeded');

  // ... and an orchestration started behind the API, with another spec (it copies the
  // whole dataset out) and no approval phase, claiming the approved run's hashes.
  const started = await durableFetch(api.host, `instances/${approvedId}?showInput=true`);
  const approvedInput = ((await started.json()) as { input: WorkflowInput }).input;
  const stolen = parseWorkflowSpec(`jobs:\n${sleepJob(ds.uio, 'uio', 'cp -r /data/uio stolen')}`);
  const forged: WorkflowInput = { ...approvedInput, workflowId: 'forged-run-1', spec: stolen, approvalDatasetIds: [] };
  const start = await durableFetch(api.host, 'orchestrators/workflowOrchestrator/forged-run-1', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(forged),
  });
  assert.ok(start.status === 202 || start.status === 200, await start.text());
  const run = await finished('forged-run-1');
  assert.equal(run.status, 'Failed');
  assert.match(run.message ?? '', /approval/);
  assert.deepEqual(
    run.jobs.map((j) => [j.status, j.startedAt]),
    [['Skipped', null]],
  );

  // A forged `approved` event for a waiting run gets it no further than the launch.
  const waiting = await submit(onlyUio('never-approved'));
  await awaiting(waiting);
  const raised = await durableFetch(api.host, `instances/${waiting}/raiseEvent/approval-decided-${ds.uio}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ state: 'approved', by: { user: 'bob', org: 'uio' } }),
  });
  assert.equal(raised.status, 202, await raised.text());
  const refused = await finished(waiting);
  assert.equal(refused.status, 'Failed');
  assert.match(refused.message ?? '', /approval/);
  assert.deepEqual(
    refused.jobs.map((j) => j.startedAt),
    [null],
  );
});
