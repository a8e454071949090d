import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../../bench/support/host';
import { dataset as datasetSchema, history as historySchema, workflowView } from '../../../src/api/schemas';
import { contentHash } from '../../../src/core/datasets/contentHash';
import { DatasetsApi } from '../datasets/client';

/**
 * Dataset versions through the real host: only the owner organization pushes, every bad
 * path is named, the ledger records version and content hash (`dataset-updated`), and a run
 * that launched on a version reads that version to its end while a newer one is pushed.
 */
const roots = mkdtempSync(join(tmpdir(), 'lf-version-roots-'));
let api: DatasetsApi;
let id = '';
before(async () => {
  api = await DatasetsApi.start({ COMPUTE: 'local', WORKFLOW_STATUS_POLL_SECONDS: '1', LOCAL_DATASET_ROOTS: JSON.stringify({ uio: [roots] }) });
  const r = await api.call('bob', 'POST', '/datasets', { name: 'versioned', files: { 'a.txt': 'v1' }, policy: { approval: 'none' } });
  assert.equal(r.status, 201, r.text);
  id = r.body.id;
});
after(async () => {
  await api?.host.kill();
  rmSync(roots, { recursive: true, force: true });
});

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

test('only the owner organization pushes a version; bad paths are refused with their paths', async () => {
  const registered = datasetSchema.parse((await api.call('carol', 'GET', `/datasets/${id}`)).body);
  assert.equal(registered.version, 1);
  assert.equal(registered.contentHash, contentHash([{ path: 'a.txt', sha256: sha('v1') }]));

  for (const who of ['alice', 'carol'] as const) {
    const r = await api.call(who, 'PUT', `/datasets/${id}/files`, { files: { 'a.txt': 'mine' } });
    assert.equal(r.status, 403, r.text);
  }
  assert.equal((await api.call(null, 'PUT', `/datasets/${id}/files`, { files: { 'a.txt': 'x' } })).status, 401);
  const bad = await api.call('bob', 'PUT', `/datasets/${id}/files`, { files: { '../x': 'out', '/etc/passwd': 'abs', 'ok.txt': 'fine' } });
  assert.equal(bad.status, 400, bad.text);
  assert.deepEqual(bad.body.error.details.map((d: { path: string }) => d.path).sort(), ['files["../x"]', 'files["/etc/passwd"]']);
  assert.equal(datasetSchema.parse((await api.call('bob', 'GET', `/datasets/${id}`)).body).version, 1, 'nothing recorded');

  // An adopted directory is its owner's to change, not the platform's.
  mkdirSync(join(roots, 'adopted'));
  const adopted = await api.call('bob', 'POST', '/datasets', { name: 'adopted', source: { kind: 'local', path: join(roots, 'adopted') } });
  assert.equal(adopted.status, 201, adopted.text);
  assert.equal((await api.call('bob', 'PUT', `/datasets/${adopted.body.id}/files`, { files: { 'a.txt': 'x' } })).status, 400);
});

test('a run reads the version it launched on to its end; the next run reads the new one', async () => {
  assert.equal((await api.call('alice', 'POST', `/datasets/${id}/lease`, { ttlSeconds: 600 })).status, 201);
  const workflow = `jobs:\n  - command: 'cat /data/d/a.txt > before.txt; while [ ! -e go ]; do sleep 0.1; done; cat /data/d/a.txt /data/d/b.txt > after.txt 2>&1; true'\n    volumes:\n      - {id: '${id}', name: 'd', path: '/data/d'}\n`;
  const submitted = await api.call('alice', 'POST', '/workflows', { workflow });
  assert.equal(submitted.status, 202, submitted.text);
  const run = submitted.body.id as string;
  const workspace = join(api.host.dataDir, 'runs', run, 'workspace');
  await eventually(() => (existsSync(join(workspace, 'before.txt')) ? true : undefined), 90_000, 'the run to read the dataset');

  const pushed = await api.call('bob', 'PUT', `/datasets/${id}/files`, { files: { 'a.txt': 'v2', 'b.txt': 'new' } });
  assert.equal(pushed.status, 200, pushed.text);
  const v2 = datasetSchema.parse(pushed.body);
  assert.equal(v2.version, 2);
  assert.equal(
    v2.contentHash,
    contentHash([
      { path: 'a.txt', sha256: sha('v2') },
      { path: 'b.txt', sha256: sha('new') },
    ]),
  );

  writeFileSync(join(workspace, 'go'), '');
  const done = await eventually(
    async () => {
      const view = workflowView.parse((await api.call('alice', 'GET', `/workflows/${run}`)).body);
      return ['Succeeded', 'Failed', 'Canceled'].includes(view.status) ? view : undefined;
    },
    90_000,
    'the run to finish',
  );
  assert.equal(done.status, 'Succeeded', JSON.stringify(done));
  assert.deepEqual(done.datasetVersions, { [id]: 1 });
  const after = await api.call('alice', 'GET', `/workflows/${run}/files/after.txt`);
  assert.match(after.text, /^v1/, 'still version 1');
  assert.doesNotMatch(after.text, /new/);

  // The tree (owner or lessee) lists the current version.
  const tree = await api.call('alice', 'GET', `/datasets/${id}/tree`);
  assert.deepEqual(
    tree.body.items.map((e: { path: string }) => e.path),
    ['a.txt', 'b.txt'],
  );
  // replace: the files given become the whole content.
  const replaced = await api.call('bob', 'PUT', `/datasets/${id}/files`, { files: { 'c.txt': 'only' }, replace: true });
  assert.equal(replaced.body.version, 3);
  const tree3 = await api.call('alice', 'GET', `/datasets/${id}/tree`);
  assert.deepEqual(
    tree3.body.items.map((e: { path: string }) => e.path),
    ['c.txt'],
  );
  const history = historySchema.parse((await api.call('carol', 'GET', `/datasets/${id}/history`)).body);
  const updates = history.items.filter((e) => e.action === 'dataset-updated');
  assert.deepEqual(
    updates.map((e) => (e.value as { version: number }).version),
    [2, 3],
  );
  assert.equal(JSON.stringify(history).includes('sealedLocation'), false);
});
