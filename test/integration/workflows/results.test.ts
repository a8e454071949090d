import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from '../../../bench/support/host';
import { history, workflowResults, workflowView } from '../../../src/api/schemas';
import { outputsSha256 } from '../../../src/core/workflow/outputs';
import { DatasetsApi, type Who } from '../datasets/client';

/**
 * Owner control of a run's outputs, over HTTP on one embedded host with the real sandbox:
 * alice (uis) leases bob's (uio) dataset that reviews results, carol's (uib) dataset that
 * limits their size, and a plain one of bob's. What the requester reads, what the owner
 * reads, who decides, and what is on the ledger; hostile jobs first.
 */
let api: DatasetsApi;
const ds = { plain: '', review: '', limited: '' };
const sha256 = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
const FINISHED = ['Succeeded', 'Failed', 'Canceled', 'Rejected'];
const job = (id: string, command: string) => `jobs:\n  - command: '${command}'\n    name: work\n    volumes:\n      - {id: '${id}', name: d, path: /data/d}\n`;

before(async () => {
  api = await DatasetsApi.start({ COMPUTE: 'local', WORKFLOW_STATUS_POLL_SECONDS: '2' });
  for (const [key, who, policy] of [
    ['plain', 'bob', { approval: 'none' }],
    ['review', 'bob', { approval: 'none', results: 'review' }],
    ['limited', 'carol', { approval: 'none', maxResultBytes: 300 }],
  ] as const) {
    const r = await api.call(who, 'POST', '/datasets', { name: `${key}-data`, files: { 'a.txt': 'lorem' }, policy });
    assert.equal(r.status, 201, r.text);
    ds[key] = r.body.id;
    assert.equal((await api.call('alice', 'POST', `/datasets/${r.body.id}/lease`, { ttlSeconds: 3000 })).status, 201);
  }
});
after(async () => {
  await api?.host.kill();
});

async function run(workflow: string, files: Record<string, string> = {}) {
  const r = await api.call('alice', 'POST', '/workflows', { workflow, files });
  assert.equal(r.status, 202, r.text);
  const id = r.body.id as string;
  const view = await eventually(
    async () => {
      const v = workflowView.parse((await api.call('alice', 'GET', `/workflows/${id}`)).body);
      return FINISHED.includes(v.status) ? v : undefined;
    },
    120_000,
    `workflow ${id} to finish`,
  );
  return { id, view };
}
async function results(id: string, who: Who = 'alice') {
  const r = await api.call(who, 'GET', `/workflows/${id}/results`);
  assert.equal(r.status, 200, r.text);
  return workflowResults.parse(r.body);
}
const code = (r: { body: { error?: { code?: string } } }) => r.body?.error?.code;

test('the owner sets the results policy with PATCH; no one else can', async () => {
  const r = await api.call('bob', 'POST', '/datasets', { name: 'patched', files: { 'a.txt': 'x' } });
  assert.equal(r.status, 201, r.text);
  assert.deepEqual([r.body.policy.results, r.body.policy.maxResultBytes], ['release', undefined]);
  const id = r.body.id as string;
  assert.equal((await api.call('alice', 'PATCH', `/datasets/${id}`, { policy: { results: 'review' } })).status, 403);
  assert.equal((await api.call('bob', 'PATCH', `/datasets/${id}`, { policy: { maxResultBytes: 0 } })).status, 400);
  const patched = await api.call('bob', 'PATCH', `/datasets/${id}`, { policy: { results: 'review', maxResultBytes: 4096 } });
  assert.equal(patched.status, 200, patched.text);
  assert.deepEqual([patched.body.policy.results, patched.body.policy.maxResultBytes, patched.body.policy.approval], ['review', 4096, 'required']);
  const cleared = await api.call('bob', 'PATCH', `/datasets/${id}`, { policy: { maxResultBytes: null } });
  assert.deepEqual([cleared.body.policy.results, cleared.body.policy.maxResultBytes], ['review', undefined]);
});

test('a hostile job: links, a FIFO and a large file are neither followed, read nor allowed to break the manifest', async () => {
  const big = 64 * 1024 * 1024;
  const { id, view } = await run(
    job(
      ds.plain,
      `echo hello; echo result > out.txt; echo changed > edit.txt; ln -s /etc/passwd leak; ln -s / root; ln -s /data/d/a.txt data-link; mkfifo pipe; mkdir -p deep/er; echo x > deep/er/f; truncate -s ${big} big`,
    ),
    { 'keep.txt': 'unchanged\n', 'edit.txt': 'before\n' },
  );
  assert.equal(view.status, 'Succeeded', JSON.stringify(view));
  const r = await results(id);
  assert.equal(r.state, 'released');
  // Regular files the run created or changed, and nothing else: no link, no FIFO, and not
  // the submitted file it left alone.
  assert.deepEqual(
    r.files.map((f) => [f.path, f.size]),
    [
      ['big', big],
      ['deep/er/f', 2],
      ['edit.txt', 8],
      ['out.txt', 7],
    ],
  );
  assert.equal(r.files.find((f) => f.path === 'big')!.sha256, sha256(Buffer.alloc(big)));
  // The hashes are those of what the API serves.
  const out = await api.call('alice', 'GET', `/workflows/${id}/files/out.txt`);
  assert.equal(out.status, 200);
  assert.equal(r.files.find((f) => f.path === 'out.txt')!.sha256, sha256(out.text));
  const log = await api.call('alice', 'GET', `/workflows/${id}/jobs/work/logs`);
  assert.deepEqual(r.logs, [{ job: 'work', size: Buffer.byteLength(log.text), sha256: sha256(log.text) }]);
  assert.equal(r.outputsSha256, outputsSha256({ files: r.files, logs: r.logs }));
  // Recorded on the ledger with the finish: the dataset's history holds the same manifest.
  const h = history.parse((await api.call('bob', 'GET', `/datasets/${ds.plain}/history`)).body);
  const finish = h.items.find((e) => e.action === 'workflow-finished' && (e.value as { workflowId: string }).workflowId === id);
  assert.deepEqual((finish?.value as { outputs: unknown }).outputs, { files: r.files, logs: r.logs });
});

test('a reviewed run: withheld from the requester (403), readable by the owner, released by the owner only, once', async () => {
  // The job writes early.txt, then waits for the test's go-ahead: withheld while it runs too.
  const submitted = await api.call('alice', 'POST', '/workflows', {
    workflow: job(ds.review, 'echo early > early.txt; while [ ! -e go ]; do sleep 0.1; done; rm -f go; echo secret-log; wc -c /data/d/a.txt > out.txt'),
  });
  assert.equal(submitted.status, 202, submitted.text);
  const id = submitted.body.id as string;
  const workspace = join(api.host.dataDir, 'runs', id, 'workspace');
  await eventually(() => (existsSync(join(workspace, 'early.txt')) ? true : undefined), 60_000, 'the job to write early.txt');
  const early = await api.call('alice', 'GET', `/workflows/${id}/files/early.txt`);
  assert.equal(early.status, 403, early.text);
  assert.equal(code(early), 'results_pending_review');
  assert.equal((await api.call('bob', 'GET', `/workflows/${id}/files/early.txt`)).text, 'early\n'); // the owner may watch
  assert.equal((await api.call('alice', 'GET', `/workflows/${id}/results`)).status, 409); // not finished
  writeFileSync(join(workspace, 'go'), '');
  const view = await eventually(
    async () => {
      const v = workflowView.parse((await api.call('alice', 'GET', `/workflows/${id}`)).body);
      return FINISHED.includes(v.status) ? v : undefined;
    },
    120_000,
    `workflow ${id} to finish`,
  );
  assert.equal(view.status, 'Succeeded', JSON.stringify(view));
  for (const path of [`/workflows/${id}/files/out.txt`, `/workflows/${id}/jobs/work/logs`, `/workflows/${id}/files/missing.txt`]) {
    const r = await api.call('alice', 'GET', path);
    assert.equal(r.status, 403, `${path}: ${r.text}`);
    assert.equal(code(r), 'results_pending_review');
    assert.doesNotMatch(r.text, /secret-log/);
  }
  // The reviewing owner reads what it reviews.
  const file = await api.call('bob', 'GET', `/workflows/${id}/files/out.txt`);
  assert.equal(file.status, 200);
  assert.equal(file.text, '5 /data/d/a.txt\n');
  assert.match((await api.call('bob', 'GET', `/workflows/${id}/jobs/work/logs`)).text, /secret-log/);
  const pending = await results(id);
  assert.equal(pending.state, 'pending-review');
  assert.deepEqual(pending.reviews, [{ datasetId: ds.review, org: 'uio', state: 'pending' }]);
  assert.deepEqual(await results(id, 'bob'), pending);
  assert.equal((await api.call('carol', 'GET', `/workflows/${id}/results`)).status, 404); // a third organization
  assert.equal((await api.call('carol', 'GET', `/workflows/${id}/files/out.txt`)).status, 404);

  // Neither the requester nor a third organization can release.
  for (const who of ['alice', 'carol'] as const) {
    const r = await api.call(who, 'POST', `/workflows/${id}/results/release`);
    assert.equal(r.status, 403, `${who}: ${r.text}`);
    assert.equal((await api.call(who, 'POST', `/workflows/${id}/results/reject`, { reason: 'mine' })).status, 403);
  }
  const released = await api.call('bob', 'POST', `/workflows/${id}/results/release`);
  assert.equal(released.status, 200, released.text);
  const after = workflowResults.parse(released.body);
  assert.equal(after.state, 'released');
  assert.equal(after.reviews[0]?.decidedBy?.user, 'bob');
  assert.equal(after.outputsSha256, pending.outputsSha256);
  assert.equal((await api.call('bob', 'POST', `/workflows/${id}/results/release`)).status, 409);
  assert.equal((await api.call('bob', 'POST', `/workflows/${id}/results/reject`, { reason: 'second thoughts' })).status, 409);

  const served = await api.call('alice', 'GET', `/workflows/${id}/files/out.txt`);
  assert.equal(served.status, 200);
  assert.equal(sha256(served.text), pending.files.find((f) => f.path === 'out.txt')?.sha256);
  assert.equal((await api.call('alice', 'GET', `/workflows/${id}/jobs/work/logs`)).status, 200);
  // The decision is on the ledger, in the dataset's history.
  const h = history.parse((await api.call('bob', 'GET', `/datasets/${ds.review}/history`)).body);
  assert.ok(h.items.some((e) => e.action === 'results-released' && (e.value as { workflowId: string }).workflowId === id));
});

test('a rejection withholds the outputs for good and deletes them', async () => {
  const { id } = await run(job(ds.review, 'cat /data/d/a.txt > copy.txt'));
  const workspace = join(api.host.dataDir, 'runs', id, 'workspace');
  assert.ok(existsSync(join(workspace, 'copy.txt')), 'cleanup kept the outputs pending review');
  assert.equal((await api.call('bob', 'POST', `/workflows/${id}/results/reject`, {})).status, 400);
  const rejected = await api.call('bob', 'POST', `/workflows/${id}/results/reject`, { reason: 'a copy of the data' });
  assert.equal(rejected.status, 200, rejected.text);
  const r = workflowResults.parse(rejected.body);
  assert.equal(r.state, 'rejected');
  assert.equal(r.reviews[0]?.reason, 'a copy of the data');
  const refused = await api.call('alice', 'GET', `/workflows/${id}/files/copy.txt`);
  assert.equal(refused.status, 403);
  assert.match(refused.text, /rejected/);
  assert.equal((await api.call('alice', 'GET', `/workflows/${id}/jobs/work/logs`)).status, 403);
  assert.equal((await api.call('bob', 'POST', `/workflows/${id}/results/release`)).status, 409);
  await eventually(() => (existsSync(workspace) ? undefined : true), 30_000, 'the rejected outputs to be deleted');
});

test('outputs over maxResultBytes end the run Failed, with a message, and are not served', async () => {
  const { id, view } = await run(job(ds.limited, 'head -c 1000 /dev/zero > big.bin'));
  assert.equal(view.status, 'Failed', JSON.stringify(view));
  assert.match(view.message ?? '', /more than the smallest maxResultBytes of the run's datasets \(300\)/);
  const r = await results(id);
  assert.equal(r.state, 'rejected');
  assert.match(r.reason ?? '', /maxResultBytes \(300\)/);
  assert.deepEqual(
    r.files.map((f) => [f.path, f.size]),
    [['big.bin', 1000]],
  );
  for (const who of ['alice', 'carol'] as const)
    assert.equal((await api.call(who, 'GET', `/workflows/${id}/files/big.bin`)).status, who === 'alice' ? 403 : 404);
  await eventually(() => (existsSync(join(api.host.dataDir, 'runs', id, 'workspace')) ? undefined : true), 30_000, 'the withheld outputs to be deleted');
});
