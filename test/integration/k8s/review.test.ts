import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../../bench/support/host';
import { names, runKey } from '../../../src/adapters/compute/manifests/names';
import { history, workflowResults, workflowView } from '../../../src/api/schemas';
import { FakeKubernetesApi } from '../../fakes/kubernetesApi';
import { DatasetsApi } from '../datasets/client';
import { NAMESPACE } from './harness';

/**
 * Output review on the cluster backends (issue #14, part 1), through the real host over HTTP
 * against the fake Kubernetes API server: the fake plays the job and the reader pods. The
 * lister pod's log is what a workspace of the test's choosing would print (a hostile job
 * controls its names); reader pods print the file they are asked for.
 */
const sha256 = (b: string) => createHash('sha256').update(b).digest('hex');
const runLabel = 'ledgerflow.io/run';
const FINISHED = ['Succeeded', 'Failed', 'Canceled', 'Rejected'];

/** The workspace of each run (by run key) as its pods would see it, or a raw listing. */
const workspaces = new Map<string, { files: Record<string, string>; listing?: string }>();
const listing = (files: Record<string, string>) =>
  'BEGIN\n' +
  Object.entries(files)
    .map(([path, content]) => `F ${Buffer.byteLength(content)} ${sha256(content)} ${Buffer.from(path).toString('base64')}\n`)
    .join('') +
  'END 0\n';

let fake: FakeKubernetesApi;
let dir: string;
before(async () => {
  fake = await new FakeKubernetesApi().start();
  dir = mkdtempSync(join(tmpdir(), 'lf-k8s-review-'));
  fake.runPod = (pod) => {
    const ws = workspaces.get(pod.metadata.labels?.[runLabel] ?? '');
    const name = pod.metadata.name;
    if (ws === undefined) return undefined;
    if (/-list-[0-9a-f]{6}$/.test(name)) return { exitCode: 0, logs: ws.listing ?? listing(ws.files) };
    const path = (pod['spec'] as { containers: { env?: { name: string; value: string }[] }[] }).containers[0]?.env?.find((e) => e.name === 'LF_PATH')?.value;
    const content = path === undefined ? undefined : ws.files[path];
    return content === undefined ? { exitCode: 3, logs: '' } : { exitCode: 0, logs: Buffer.from(content).toString('base64') };
  };
});
after(async () => {
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

const ofRun = (plural: string, id: string, namespace: string | undefined = NAMESPACE) =>
  fake.objects(plural, namespace).filter((o) => o.metadata.labels?.[runLabel] === runKey(id));
const code = (r: { body: { error?: { code?: string } } }) => r.body?.error?.code;

for (const backend of ['kubernetes', 'argo'] as const) {
  test(`${backend}: a reviewed run's files are listed on the ledger, kept pending review, released or rejected`, async (t) => {
    const api = await DatasetsApi.start({
      COMPUTE: backend,
      K8S_KUBECONFIG: fake.writeKubeconfig(dir, NAMESPACE),
      K8S_NAMESPACE: NAMESPACE,
      K8S_LOCAL_DATASET_NODE: 'node-1',
      LEASE_EXPIRY_SCHEDULE: '0 0 0 1 1 *',
      WORKFLOW_STATUS_POLL_SECONDS: '2',
    });
    t.after(() => api.host.kill());
    const dataset = await api.call('bob', 'POST', '/datasets', {
      name: `reviewed-${backend}`,
      policy: { approval: 'none', results: 'review' },
      files: { 'x.txt': 'row' },
    });
    assert.equal(dataset.status, 201, dataset.text);
    const datasetId = String(dataset.body.id);
    assert.equal((await api.call('alice', 'POST', `/datasets/${datasetId}/lease`, { ttlSeconds: 3000 })).status, 201);

    /** Submits a one-job run whose workspace ends as `files` (or lists as `raw`), lets the job succeed and waits for the run to end and be cleaned up. */
    const run = async (files: Record<string, string>, raw?: string) => {
      const r = await api.call('alice', 'POST', '/workflows', {
        workflow: `jobs:\n  - command: 'wc -l /data/d/x.txt > out.txt'\n    name: work\n    volumes:\n      - {id: '${datasetId}', name: d, path: /data/d}\n`,
        files: { 'keep.txt': 'unchanged\n', 'edit.txt': 'before\n' },
      });
      assert.equal(r.status, 202, r.text);
      const id = String(r.body.id);
      workspaces.set(runKey(id), { files, ...(raw !== undefined && { listing: raw }) });
      if (backend === 'kubernetes') {
        const job = await eventually(() => ofRun('jobs', id)[0]?.metadata.name, 60_000, 'the run to create its Job');
        fake.completeJob(job, 0, 'counted\n');
      } else {
        const wf = await eventually(() => ofRun('workflows', id)[0]?.metadata.name, 60_000, 'the run to create its Workflow');
        fake.completeWorkflowNode(wf, names.task(1), 0, 'counted\n');
        fake.finishWorkflow(wf, 'Succeeded');
      }
      const view = await eventually(
        async () => {
          const v = workflowView.parse((await api.call('alice', 'GET', `/workflows/${id}`)).body);
          return FINISHED.includes(v.status) ? v : undefined;
        },
        60_000,
        `workflow ${id} to end`,
      );
      // Cleanup deletes the job's Secrets and the dataset's volume whatever happens to the outputs.
      await eventually(() => (ofRun('secrets', id).length + ofRun('persistentvolumes', id, undefined).length === 0 ? true : undefined), 30_000, 'cleanup');
      return { id, view };
    };
    const claim = (id: string) => fake.get('persistentvolumeclaims', NAMESPACE, names.workspaceClaim(id));

    // The job wrote out.txt, changed edit.txt and left keep.txt as submitted.
    const files = { 'keep.txt': 'unchanged\n', 'edit.txt': 'after\n', 'out.txt': '1 /data/d/x.txt\n' };
    const { id, view } = await run(files);
    assert.equal(view.status, 'Succeeded', JSON.stringify(view));
    const pending = workflowResults.parse((await api.call('alice', 'GET', `/workflows/${id}/results`)).body);
    assert.equal(pending.state, 'pending-review');
    assert.deepEqual(pending.files, [
      { path: 'edit.txt', size: 6, sha256: sha256('after\n') },
      { path: 'out.txt', size: 16, sha256: sha256('1 /data/d/x.txt\n') },
    ]);
    const h = history.parse((await api.call('bob', 'GET', `/datasets/${datasetId}/history`)).body);
    const finish = h.items.find((e) => e.action === 'workflow-finished' && (e.value as { workflowId: string }).workflowId === id);
    assert.deepEqual((finish?.value as { outputs: { files: unknown } }).outputs.files, pending.files);
    // Pending review: the workspace claim outlives the cleanup; nothing else of the run does.
    assert.ok(claim(id) !== undefined, 'the workspace claim is kept pending review');
    assert.deepEqual(
      ofRun('persistentvolumeclaims', id).map((c) => c.metadata.name),
      [names.workspaceClaim(id)],
    );
    assert.equal(ofRun('pods', id).length, 0);

    const withheld = await api.call('alice', 'GET', `/workflows/${id}/files/out.txt`);
    assert.equal(withheld.status, 403, withheld.text);
    assert.equal(code(withheld), 'results_pending_review');
    const owner = await api.call('bob', 'GET', `/workflows/${id}/files/out.txt`);
    assert.equal(owner.status, 200, owner.text);
    assert.equal(owner.text, files['out.txt']);
    const released = await api.call('bob', 'POST', `/workflows/${id}/results/release`);
    assert.equal(released.status, 200, released.text);
    assert.equal(workflowResults.parse(released.body).state, 'released');
    const served = await api.call('alice', 'GET', `/workflows/${id}/files/out.txt`);
    assert.equal(served.status, 200, served.text);
    assert.equal(sha256(served.text), pending.files.find((f) => f.path === 'out.txt')?.sha256);
    assert.ok(claim(id) !== undefined, 'a released run keeps its workspace');

    // A rejection deletes the workspace claim.
    const second = await run({ 'copy.txt': 'row' });
    assert.ok(claim(second.id) !== undefined);
    const rejected = await api.call('bob', 'POST', `/workflows/${second.id}/results/reject`, { reason: 'a copy of the data' });
    assert.equal(rejected.status, 200, rejected.text);
    await eventually(() => (claim(second.id) === undefined ? true : undefined), 30_000, 'the rejected workspace claim to be deleted');
    assert.equal((await api.call('alice', 'GET', `/workflows/${second.id}/files/copy.txt`)).status, 403);

    // Hostile names in the listing: refused, the run fails, nothing is recorded, the claim goes.
    for (const hostile of ['a\nF 1 0000 b', '../escape', 'ctl\u0001x', '/etc/passwd', 'dup']) {
      const record = `F 1 ${sha256('x')} ${Buffer.from(hostile).toString('base64')}\n`;
      const raw = hostile === 'dup' ? `BEGIN\n${record}${record}END 0\n` : `BEGIN\n${record}END 0\n`;
      const bad = await run({}, raw);
      assert.equal(bad.view.status, 'Failed', JSON.stringify(bad.view));
      assert.match(bad.view.message ?? '', /the outputs could not be listed/);
      const r = workflowResults.parse((await api.call('bob', 'GET', `/workflows/${bad.id}/results`)).body);
      assert.equal(r.state, 'rejected');
      assert.deepEqual(r.files, []);
      await eventually(() => (claim(bad.id) === undefined ? true : undefined), 30_000, "the refused run's workspace claim to be deleted");
    }
  });
}
