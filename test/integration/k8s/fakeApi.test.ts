import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { matchesSelector } from '../../fakes/kubernetesApi';
import { cluster, NAMESPACE } from './harness';

/** The fake must answer the real client as a real API server would, or the backend tests prove little. */
let env: Awaited<ReturnType<typeof cluster>>;
let core: k8s.CoreV1Api;
before(async () => {
  env = await cluster();
  core = env.kubeConfig.makeApiClient(k8s.CoreV1Api);
});
after(() => env.close());

const configMap = (name: string, labels: Record<string, string> = {}): k8s.V1ConfigMap => ({ metadata: { name, labels }, data: { a: '1' } });

test('create answers 201 with server fields; a second create is 409 AlreadyExists; a missing get is 404 NotFound', async () => {
  const created = await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap('one') });
  assert.equal(created.metadata?.namespace, NAMESPACE);
  assert.ok(created.metadata?.uid);
  assert.ok(created.metadata?.resourceVersion);
  await assert.rejects(core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap('one') }), (err: unknown) => {
    assert.ok(err instanceof k8s.ApiException);
    assert.equal(err.code, 409);
    const status = JSON.parse(String(err.body)) as { kind: string; reason: string; code: number };
    assert.deepEqual([status.kind, status.reason, status.code], ['Status', 'AlreadyExists', 409]);
    return true;
  });
  await assert.rejects(
    core.readNamespacedConfigMap({ name: 'nope', namespace: NAMESPACE }),
    (err: unknown) => err instanceof k8s.ApiException && err.code === 404,
  );
});

test('requests without the bearer token are 401', async () => {
  const kc = new k8s.KubeConfig();
  const config = JSON.parse(env.fake.kubeconfig(NAMESPACE)) as { users: { user: { token: string } }[] };
  config.users[0]!.user.token = 'wrong';
  kc.loadFromString(JSON.stringify(config));
  await assert.rejects(
    kc.makeApiClient(k8s.CoreV1Api).listNamespacedConfigMap({ namespace: NAMESPACE }),
    (err: unknown) => err instanceof k8s.ApiException && err.code === 401,
  );
});

test('list filters by label selector, and a watch streams changes after the listed version', async () => {
  await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap('red', { color: 'red' }) });
  const list = await core.listNamespacedConfigMap({ namespace: NAMESPACE, labelSelector: 'color=red' });
  assert.deepEqual(
    list.items.map((c) => c.metadata?.name),
    ['red'],
  );
  // Changed between the list and the watch: the watch must still deliver it.
  await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap('early', { color: 'blue' }) });
  const events: string[] = [];
  let seen: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    seen = resolve;
  });
  const controller = await new k8s.Watch(env.kubeConfig).watch(
    `/api/v1/namespaces/${NAMESPACE}/configmaps`,
    { labelSelector: 'color in (red,blue)', resourceVersion: list.metadata?.resourceVersion },
    (type: string, obj: k8s.V1ConfigMap) => {
      events.push(`${type} ${obj.metadata?.name}`);
      if (events.length === 3) seen();
    },
    () => {},
  );
  await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap('green', { color: 'green' }) });
  await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap('blue', { color: 'blue' }) });
  await core.deleteNamespacedConfigMap({ name: 'red', namespace: NAMESPACE });
  await all;
  controller.abort();
  assert.deepEqual(events, ['ADDED early', 'ADDED blue', 'DELETED red']);
});

test('label selectors: equality, inequality, sets and existence', () => {
  const labels = { app: 'lf', tier: 'job' };
  assert.ok(matchesSelector(labels, 'app=lf,tier==job'));
  assert.ok(matchesSelector(labels, 'app!=x,tier in (job, reader),missing notin (a)'));
  assert.ok(matchesSelector(labels, 'app,!missing'));
  assert.ok(!matchesSelector(labels, 'tier notin (job)'));
  assert.ok(!matchesSelector(labels, 'missing'));
});
