import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../../bench/support/host';
import { FakeKubernetesApi } from '../../fakes/kubernetesApi';
import { DatasetsApi } from '../datasets/client';
import { NAMESPACE } from './harness';

/**
 * Revocation on the cluster backends (issue #14, part 2), through the real host over HTTP
 * against the fake Kubernetes API server: bob (uio) revokes the lease under alice's (uis)
 * running job, and the job's cluster object is stopped within 3 s (the Kubernetes Job
 * deleted; the Argo Workflow terminated), the run ends Canceled naming the dataset and the
 * reason, and cleanup deletes what is left of the run.
 */
const REVOKE_BOUND_MS = 3_000;
let fake: FakeKubernetesApi;
let dir: string;

before(async () => {
  fake = await new FakeKubernetesApi().start();
  dir = mkdtempSync(join(tmpdir(), 'lf-k8s-revoke-'));
  // The run's end lists its workspace through a lister pod: an empty one here.
  fake.runPod = (pod) => (/-list-[0-9a-f]{6}$/.test(pod.metadata.name) ? { exitCode: 0, logs: 'BEGIN\nEND 0\n' } : undefined);
});
after(async () => {
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

const runLabel = 'ledgerflow.io/run';
const ofRun = (plural: string) => fake.objects(plural, NAMESPACE).filter((o) => o.metadata.labels?.[runLabel] !== undefined);

for (const backend of ['kubernetes', 'argo'] as const) {
  const plural = backend === 'kubernetes' ? 'jobs' : 'workflows';
  test(`${backend}: the owner's release stops the job's ${plural} object within 3 s and the run ends Canceled`, async (t) => {
    const api = await DatasetsApi.start({
      COMPUTE: backend,
      K8S_KUBECONFIG: fake.writeKubeconfig(dir, NAMESPACE),
      K8S_NAMESPACE: NAMESPACE,
      K8S_LOCAL_DATASET_NODE: 'node-1',
      LEASE_EXPIRY_SCHEDULE: '0 0 0 1 1 *',
    });
    t.after(() => api.host.kill());
    const dataset = await api.call('bob', 'POST', '/datasets', { name: 'on-cluster', policy: { approval: 'none' }, files: { 'x.txt': 'row' } });
    assert.equal(dataset.status, 201, dataset.text);
    const datasetId = String(dataset.body.id);
    assert.equal((await api.call('alice', 'POST', `/datasets/${datasetId}/lease`, { ttlSeconds: 600 })).status, 201);
    const r = await api.call('alice', 'POST', '/workflows', {
      workflow: `jobs:\n  - command: 'while true; do cat /data/uio/x.txt; done'\n    volumes:\n      - {id: '${datasetId}', name: 'uio', path: '/data/uio'}\n`,
    });
    assert.equal(r.status, 202, r.text);
    const runId = String(r.body.id);
    // The fake never runs the pod: the job stays running until something stops it.
    const name = await eventually(() => ofRun(plural)[0]?.metadata.name, 60_000, `the run's ${plural} object`);
    await eventually(
      async () => ((await api.call('alice', 'GET', `/workflows/${runId}`)).body.jobs[0].status === 'Running' ? true : undefined),
      30_000,
      'job running',
    );

    const t0 = Date.now();
    assert.equal((await api.call('bob', 'DELETE', `/datasets/${datasetId}/lease`)).status, 204);
    const stopped = () => {
      const obj = fake.get(plural, NAMESPACE, name);
      return obj === undefined || (obj['spec'] as { shutdown?: string } | undefined)?.shutdown === 'Terminate' ? true : undefined;
    };
    await eventually(stopped, 30_000, `the ${plural} object to be stopped`);
    const ms = Date.now() - t0;
    t.diagnostic(`${plural}/${name} stopped ${ms} ms after the owner's release`);
    assert.ok(ms <= REVOKE_BOUND_MS, `${plural}/${name} stopped ${ms} ms after the owner's release`);

    const view = await eventually(
      async () => {
        const v = (await api.call('alice', 'GET', `/workflows/${runId}`)).body;
        return ['Succeeded', 'Failed', 'Canceled'].includes(v.status) ? v : undefined;
      },
      30_000,
      'the run to end',
    );
    assert.equal(view.status, 'Canceled', JSON.stringify(view));
    assert.ok(String(view.message).includes(`dataset ${datasetId}: lease released by its owner`), view.message);
    // Cleanup deletes the object itself (an Argo Workflow is only terminated by the cancel).
    await eventually(() => (fake.get(plural, NAMESPACE, name) === undefined ? true : undefined), 30_000, `cleanup to delete ${plural}/${name}`);
  });
}
