import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseAllDocuments, stringify } from 'yaml';
import type { V1Container, V1PodSpec } from '@kubernetes/client-node';
import { renderManifests } from '../../../src/adapters/compute/manifests/render';
import type { ArgoWorkflow } from '../../../src/adapters/compute/manifests/argoWorkflow';
import { labelValue, names } from '../../../src/adapters/compute/manifests/names';
import { clusterOptions } from '../../../src/adapters/compute/manifests/options';
import { listerPod, readerPod } from '../../../src/adapters/compute/manifests/reader';
import { codeConfigMap } from '../../../src/adapters/compute/manifests/workspace';
import { parseSettings } from '../../../src/config/settings';
import { LedgerflowError } from '../../../src/core/errors';
import type { RunLaunch } from '../../../src/ports/compute';
import { AZURE_KEY, azureVolume, jobLaunch, localVolume } from './harness';
import { validateManifest } from './validate';

const options = clusterOptions(parseSettings({ K8S_WORKSPACE_STORAGE_CLASS: 'ledgerflow-workspace' }));

const run: RunLaunch = {
  workflowId: 'wf-render',
  jobs: [
    jobLaunch('https://ledgerflow.example/api', { workflowId: 'wf-render', jobIndex: 1, jobName: 'list', command: 'ls /home/jovyan/', volumes: [] }),
    jobLaunch('https://ledgerflow.example/api', { workflowId: 'wf-render', jobIndex: 2, jobName: 'count' }),
  ],
  edges: [{ from: 1, to: 2 }],
  timeoutSeconds: 3600,
};
const input = { run, files: { 'uis.py': 'print(1)\n' }, volumes: [azureVolume, localVolume], options };

/** What Pod Security "restricted" demands of every container. */
function assertRestricted(spec: Pick<V1PodSpec, 'securityContext'>, containers: V1Container[], where: string): void {
  assert.equal(spec.securityContext?.runAsNonRoot, true, where);
  assert.equal(spec.securityContext?.seccompProfile?.type, 'RuntimeDefault', where);
  for (const c of containers) {
    assert.equal(c.securityContext?.allowPrivilegeEscalation, false, `${where} ${c.name}`);
    assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], `${where} ${c.name}`);
    assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${where} ${c.name}`);
  }
}

for (const target of ['k8s', 'argo'] as const) {
  test(`rendered ${target} manifests pass kubernetes-models schema validation and print as YAML`, async () => {
    const objects = renderManifests(target, input);
    for (const o of objects) await validateManifest(o);
    const text = objects.map((o) => stringify(o)).join('---\n');
    assert.deepEqual(
      parseAllDocuments(text).map((d) => d.toJS()),
      JSON.parse(JSON.stringify(objects)),
    );
    // Rendered for reading: no credential and no callback token.
    assert.ok(!text.includes(AZURE_KEY));
    assert.ok(!text.includes('cb-token-secret-value'));
    assert.deepEqual(
      objects.map((o) => o.kind),
      [
        'ConfigMap',
        'PersistentVolumeClaim',
        'Secret',
        'PersistentVolume',
        'PersistentVolumeClaim',
        'PersistentVolume',
        'PersistentVolumeClaim',
        'Secret',
        'Secret',
        ...(target === 'k8s' ? ['Job', 'Job'] : ['Workflow']),
      ],
    );
  });
}

test('every pod ledgerflow creates meets Pod Security "restricted"', () => {
  const objects = renderManifests('k8s', input);
  for (const job of objects.filter((o) => o.kind === 'Job') as { spec: { template: { spec: V1PodSpec } } }[]) {
    const spec = job.spec.template.spec;
    assertRestricted(spec, [...(spec.initContainers ?? []), ...spec.containers], 'job');
    assert.equal(spec.automountServiceAccountToken, false);
    assert.equal(spec.terminationGracePeriodSeconds, 1, 'a canceled job that ignores SIGTERM is killed after 1 s, not 30');
  }
  const wf = renderManifests('argo', input).find((o) => o.kind === 'Workflow') as ArgoWorkflow;
  assertRestricted(
    wf.spec,
    wf.spec.templates.flatMap((t) => [...(t.initContainers ?? []), ...(t.container ? [t.container] : [])]),
    'workflow',
  );
  assert.deepEqual(JSON.parse(wf.spec.podSpecPatch ?? '{}'), { terminationGracePeriodSeconds: 1 });
  for (const pod of [readerPod(options, 'wf-render', 'result.txt', 'n1'), listerPod(options, 'wf-render', 10_000, 'n2')]) {
    const spec = pod.spec!;
    assertRestricted(spec, spec.containers, pod.metadata!.name!);
    assert.equal(pod.metadata?.labels?.['ledgerflow.io/role'], 'reader', 'no network (networkpolicy.yaml)');
    assert.equal(spec.automountServiceAccountToken, false);
    assert.deepEqual(spec.volumes, [{ name: 'workspace', persistentVolumeClaim: { claimName: names.workspaceClaim('wf-render'), readOnly: true } }]);
    assert.equal(spec.containers[0]?.volumeMounts?.[0]?.readOnly, true);
  }
});

test('the workspace ConfigMap refuses unsafe paths and oversized code', () => {
  assert.throws(
    () => codeConfigMap(options, 'wf', { '../x.py': '', 'a//b': '', '/abs': '' }),
    (err: unknown) => err instanceof LedgerflowError && err.code === 'validation_failed' && err.details?.length === 3,
  );
  assert.throws(
    () => codeConfigMap(options, 'wf', { 'big.bin': 'x'.repeat(1_000_001) }),
    (err: unknown) => err instanceof LedgerflowError && err.code === 'payload_too_large',
  );
});

test('names are deterministic, DNS-1123, short enough for pod names; label values always valid', () => {
  const dns = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  fc.assert(
    fc.property(fc.string(), fc.string({ minLength: 1 }), fc.integer({ min: 1, max: 99 }), (workflowId, jobName, attempt) => {
      const job = names.job(workflowId, jobName, attempt);
      assert.equal(job, names.job(workflowId, jobName, attempt));
      assert.match(job, dns);
      assert.ok(job.length <= 52, job);
      assert.match(names.callbackSecret(workflowId, jobName, attempt), dns);
      assert.match(labelValue(jobName), /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/);
      assert.ok(labelValue(jobName).length <= 63);
    }),
  );
  assert.notEqual(names.job('wf', 'a b', 1), names.job('wf', 'a-b', 1));
});

test('the schema check has teeth: malformed objects are rejected', async () => {
  await assert.rejects(
    validateManifest({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'x' }, spec: { backoffLimit: 'zero', template: {} } } as never),
  );
  const wf = renderManifests('argo', input).find((o) => o.kind === 'Workflow') as ArgoWorkflow;
  await assert.rejects(validateManifest({ ...wf, spec: { ...wf.spec, templates: 'none' } } as never));
});

test('a job mounting a dataset that was not resolved is refused rather than left Pending', () => {
  assert.throws(() => renderManifests('k8s', { ...input, volumes: [azureVolume] }), /ds-local-uib/);
});
