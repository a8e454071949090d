import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { parseSettings } from '../../../src/config/settings';
import { INFRA_K8S, loadManifests, type ManifestObject } from './rbac';
import { validateManifest } from './validate';

const files = readdirSync(INFRA_K8S)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const all: ManifestObject[] = files.flatMap((f) => loadManifests(f));
const find = (kind: string, name: string) => {
  const found = all.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `${kind} ${name}`);
  return found;
};

test('every manifest in infra/k8s parses and passes kubernetes-models schema validation', async () => {
  assert.deepEqual(files, ['argo.yaml', 'limitrange.yaml', 'namespace.yaml', 'networkpolicy.yaml', 'rbac.yaml', 'storageclass.yaml']);
  for (const o of all) await validateManifest(o);
});

test('the namespace enforces Pod Security "restricted" and everything else lives in it', () => {
  const ns = find('Namespace', 'ledgerflow');
  assert.equal(ns.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted');
  assert.equal(parseSettings({}).K8S_NAMESPACE, 'ledgerflow');
  const clusterScoped = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'StorageClass']);
  for (const o of all.filter((x) => !clusterScoped.has(x.kind))) assert.equal(o.metadata.namespace, 'ledgerflow', `${o.kind} ${o.metadata.name}`);
});

test('job pods get no network: ingress and egress denied, nothing allowed', () => {
  const policy = find('NetworkPolicy', 'ledgerflow-jobs-isolated') as ManifestObject & {
    spec: { podSelector: { matchExpressions: { key: string; values: string[] }[] }; policyTypes: string[]; ingress?: unknown; egress?: unknown };
  };
  assert.deepEqual(policy.spec.podSelector.matchExpressions, [{ key: 'ledgerflow.io/role', operator: 'In', values: ['job', 'reader'] }]);
  assert.deepEqual(policy.spec.policyTypes, ['Ingress', 'Egress']);
  assert.equal(policy.spec.ingress, undefined);
  assert.equal(policy.spec.egress, undefined);
});

test("Argo's wait container may reach the API server both before and after the Service rewrite, and nothing else", () => {
  const policy = find('NetworkPolicy', 'ledgerflow-argo-wait-apiserver') as ManifestObject & {
    spec: { policyTypes: string[]; egress: { to: { ipBlock?: { cidr: string } }[]; ports: { protocol: string; port: number }[] }[] };
  };
  assert.deepEqual(policy.spec.policyTypes, ['Egress']);
  const rules = policy.spec.egress.map((r) => ({ cidrs: r.to.map((t) => t.ipBlock?.cidr), ports: r.ports.map((p) => `${p.protocol}/${p.port}`) }));
  assert.deepEqual(rules, [
    { cidrs: ['10.0.0.1/32'], ports: ['TCP/443'] },
    { cidrs: ['192.0.2.10/32'], ports: ['TCP/443', 'TCP/6443'] },
  ]);
});

test('bindings give the roles to the right accounts; the Argo executor account matches the setting', () => {
  const executor = parseSettings({}).K8S_ARGO_EXECUTOR_SERVICE_ACCOUNT;
  find('ServiceAccount', executor);
  const bindings = all.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') as (ManifestObject & {
    roleRef: { kind: string; name: string };
    subjects: { name: string }[];
  })[];
  const boundTo = Object.fromEntries(bindings.map((b) => [`${b.roleRef.kind}/${b.roleRef.name}`, b.subjects.map((s) => s.name)]));
  assert.deepEqual(boundTo, {
    'Role/ledgerflow-compute': ['ledgerflow-controller'],
    'ClusterRole/ledgerflow-volumes': ['ledgerflow-controller'],
    'Role/ledgerflow-argo-executor': [executor],
  });
  for (const ref of Object.keys(boundTo)) find(ref.split('/')[0]!, ref.split('/')[1]!);
  assert.equal((find('StorageClass', 'ledgerflow-workspace') as ManifestObject & { provisioner: string }).provisioner, 'file.csi.azure.com');
});
