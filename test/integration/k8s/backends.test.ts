import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ArgoWorkflowsBackend } from '../../../src/adapters/compute/argo/argoBackend';
import { loadKubeConfig } from '../../../src/adapters/compute/kubernetes/client';
import { KubernetesJobBackend } from '../../../src/adapters/compute/kubernetes/jobBackend';
import { NOTIFY_SCRIPT, type ArgoWorkflow } from '../../../src/adapters/compute/manifests/argoWorkflow';
import { names, runKey } from '../../../src/adapters/compute/manifests/names';
import type { RunLaunch } from '../../../src/ports/compute';
import { LedgerflowError } from '../../../src/core/errors';
import { callOf, grants, loadManifests } from './rbac';
import { eventually } from '../../../bench/support/host';
import { AZURE_KEY, azureVolume, callbackServer, cluster, jobLaunch, localVolume, NAMESPACE, silent } from './harness';

let env: Awaited<ReturnType<typeof cluster>>;
let callbacks: Awaited<ReturnType<typeof callbackServer>>;
let backend: KubernetesJobBackend;
let argo: ArgoWorkflowsBackend;
let stopWatching: () => void;

before(async () => {
  env = await cluster({ K8S_LOCAL_DATASET_NODE: 'node-uib' });
  callbacks = await callbackServer();
  backend = new KubernetesJobBackend({ kubeConfig: env.kubeConfig, cluster: env.options, log: silent, completions: { retryDelayMs: 5 } });
  argo = new ArgoWorkflowsBackend({ kubeConfig: env.kubeConfig, cluster: env.options, log: silent });
  stopWatching = await backend.watchCompletions();
});

after(async () => {
  stopWatching();
  await callbacks.close();
  await env.close();
});

const files = { 'uis.py': 'print(1)\n', 'lib/util.py': "X = 'it''s'\n" };

test('a job runs with its workspace and read-only datasets, and its completion reaches the callback', async () => {
  const { fake } = env;
  const job = jobLaunch(callbacks.url);
  await backend.prepareWorkspace(job.workflowId, files);
  const handle = await backend.launch(job, [azureVolume, localVolume]);
  assert.deepEqual(handle, { backend: 'kubernetes', ref: names.job(job.workflowId, job.jobName, 1) });

  const k8sJob = fake.get('jobs', NAMESPACE, handle.ref)!;
  assert.equal(k8sJob.spec.backoffLimit, 0);
  assert.equal(k8sJob.spec.activeDeadlineSeconds, 600);
  const pod = k8sJob.spec.template.spec;
  assert.equal(pod.automountServiceAccountToken, false);
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
  assert.equal(k8sJob.spec.template.metadata.labels['ledgerflow.io/role'], 'job');
  assert.equal(k8sJob.spec.template.metadata.labels['ledgerflow.io/workflow-id'], 'wf-0001');
  const main = pod.containers[0];
  assert.deepEqual(main.command, ['/bin/sh', '-c', job.command]);
  assert.deepEqual(main.securityContext.capabilities.drop, ['ALL']);
  assert.equal(main.securityContext.allowPrivilegeEscalation, false);
  const uis = main.volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/home/jovyan/uis');
  assert.equal(uis.readOnly, true);
  assert.equal(uis.subPath, '2022');
  // No secret travels in the Job: the callback token and the storage key stay in Secrets.
  assert.ok(!JSON.stringify(k8sJob).includes(job.callback.token));
  assert.ok(!JSON.stringify(k8sJob).includes(AZURE_KEY));

  const pvs = fake.objects('persistentvolumes');
  assert.equal(pvs.length, 2);
  const azurePv = pvs.find((p) => p.spec.csi !== undefined)!;
  assert.equal(azurePv.spec.csi.driver, 'file.csi.azure.com');
  assert.equal(azurePv.spec.csi.readOnly, true);
  assert.deepEqual(azurePv.spec.csi.volumeAttributes, { shareName: 'share-uis', storageAccount: 'uisdata' });
  const secret = fake.get('secrets', NAMESPACE, azurePv.spec.csi.nodeStageSecretRef.name)!;
  const secretData = secret['data'] as Record<string, string>;
  assert.equal(Buffer.from(secretData['azurestorageaccountkey']!, 'base64').toString(), AZURE_KEY);
  assert.equal(Buffer.from(secretData['azurestorageaccountname']!, 'base64').toString(), 'uisdata');
  const localPv = pvs.find((p) => p.spec.local !== undefined)!;
  assert.equal(localPv.spec.local.path, '/data/uib');
  assert.deepEqual(localPv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values, ['node-uib']);
  for (const pv of pvs) {
    const claim = fake.get('persistentvolumeclaims', NAMESPACE, pv.spec.claimRef.name)!;
    assert.equal(claim.spec.volumeName, pv.metadata.name);
    // hostPath and local volumes can only be ReadWriteOnce; Azure Files can be ReadOnlyMany.
    assert.deepEqual(pv.spec.accessModes, [pv.spec.csi === undefined ? 'ReadWriteOnce' : 'ReadOnlyMany']);
    assert.deepEqual(claim.spec.accessModes, pv.spec.accessModes);
    // Deleting the PV at cleanup must never delete the owner's data.
    assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Retain');
  }
  const code = fake.get('configmaps', NAMESPACE, names.codeConfigMap(job.workflowId))!;
  assert.match(
    (code['data'] as Record<string, string>)['populate.sh']!,
    /\[ -e '\/workspace\/lib\/util.py' \] \|\| \{ mkdir -p '\/workspace\/lib' && cp \/ledgerflow\/code\/f0 /,
  );

  const pending = await backend.status(handle);
  assert.equal(pending.phase, 'Pending');
  assert.equal(pending.exitCode, null);
  fake.completeJob(handle.ref, 0, 'counted 42\n');
  const cb = await callbacks.next();
  assert.equal(cb.path, '/api/workflows/wf-0001/jobs/count/complete');
  assert.equal(cb.headers.authorization, 'Bearer cb-token-secret-value');
  assert.equal(cb.body['workflowId'], 'wf-0001');
  assert.equal(cb.body['jobName'], 'count');
  assert.equal(cb.body['attempt'], 1);
  assert.equal(cb.body['exitCode'], 0);
  assert.equal(typeof cb.body['startedAt'], 'string');
  assert.equal(typeof cb.body['endedAt'], 'string');

  const status = await backend.status(handle);
  assert.equal(status.phase, 'Succeeded');
  assert.equal(status.exitCode, 0);
  assert.equal(await backend.logs(handle), 'counted 42\n');
  await eventually(() => fake.get('jobs', NAMESPACE, handle.ref)?.metadata.annotations?.['ledgerflow.io/reported'], 10_000, 'the reported mark');
});

test('a failing job reports its exit code', async () => {
  const job = jobLaunch(callbacks.url, { jobName: 'final-result', jobIndex: 5, volumes: [] });
  const handle = await backend.launch(job, []);
  env.fake.completeJob(handle.ref, 2, 'Traceback\n');
  const cb = await callbacks.next();
  assert.equal(cb.body['jobName'], 'final-result');
  assert.equal(cb.body['exitCode'], 2);
  const status = await backend.status(handle);
  assert.equal(status.phase, 'Failed');
  assert.equal(status.exitCode, 2);
});

test('a completion the callback refuses is posted again', async () => {
  const job = jobLaunch(callbacks.url, { jobName: 'flaky-callback', volumes: [] });
  const handle = await backend.launch(job, []);
  callbacks.failNext(2);
  const before = callbacks.counter.posts;
  env.fake.completeJob(handle.ref, 0);
  const cb = await callbacks.next();
  assert.equal(cb.body['jobName'], 'flaky-callback');
  assert.equal(callbacks.counter.posts - before, 3);
});

test('a job that finished while no watcher ran is reported when one starts', async () => {
  const job = jobLaunch(callbacks.url, { jobName: 'while-down', volumes: [] });
  const handle = await backend.launch(job, []);
  stopWatching();
  env.fake.completeJob(handle.ref, 7);
  const restarted = new KubernetesJobBackend({
    kubeConfig: loadKubeConfig({ kubeconfig: env.fake.kubeconfig(NAMESPACE), context: '' }),
    cluster: env.options,
    log: silent,
  });
  stopWatching = await restarted.watchCompletions();
  const cb = await callbacks.next();
  assert.deepEqual([cb.body['jobName'], cb.body['exitCode']], ['while-down', 7]);
});

test('launch is idempotent: a repeated launch meets 409 and returns the same handle', async () => {
  const job = jobLaunch(callbacks.url, { jobName: 'again', attempt: 3 });
  const first = await backend.launch(job, [azureVolume, localVolume]);
  const second = await backend.launch(job, [azureVolume, localVolume]);
  assert.deepEqual(second, first);
  assert.equal(env.fake.objects('jobs', NAMESPACE).filter((j) => j.metadata.name === first.ref).length, 1);
  assert.equal(env.fake.requests.filter((r) => r.verb === 'create' && r.resource === 'jobs' && r.name === undefined).length >= 2, true);
});

test('a launch that fails midway deletes what it created, and only that', async () => {
  const { fake } = env;
  const job = jobLaunch(callbacks.url, { workflowId: 'wf-comp', jobName: 'broken' });
  // The local dataset's PV exists already (another job of the run made it): it must survive.
  fake.seed('persistentvolumes', { metadata: { name: names.datasetVolume('wf-comp', localVolume.datasetId), labels: { 'ledgerflow.io/run': 'x' } } });
  fake.failNext('create', 'jobs', 500);
  await assert.rejects(backend.launch(job, [azureVolume, localVolume]));
  assert.deepEqual(
    fake.objects('secrets', NAMESPACE).filter((s) => s.metadata.labels?.['ledgerflow.io/run'] === runKey('wf-comp')),
    [],
  );
  assert.equal(fake.get('persistentvolumes', undefined, names.datasetVolume('wf-comp', azureVolume.datasetId)), undefined);
  assert.equal(fake.get('persistentvolumeclaims', NAMESPACE, names.datasetVolume('wf-comp', localVolume.datasetId)), undefined);
  assert.ok(fake.get('persistentvolumes', undefined, names.datasetVolume('wf-comp', localVolume.datasetId)));
  assert.equal(fake.get('jobs', NAMESPACE, names.job('wf-comp', 'broken', 1)), undefined);

  fake.failNext('create', 'persistentvolumeclaims', 500);
  await assert.rejects(backend.prepareWorkspace('wf-comp', files));
  assert.equal(fake.get('configmaps', NAMESPACE, names.codeConfigMap('wf-comp')), undefined);
});

test('a SAS token cannot mount an Azure Files share', async () => {
  const job = jobLaunch(callbacks.url, { workflowId: 'wf-sas' });
  await assert.rejects(
    backend.launch(job, [{ ...azureVolume, credential: 'sv=2022-11-02&sig=abc' }, localVolume]),
    (err: unknown) => err instanceof LedgerflowError && err.code === 'bad_request',
  );
});

test('cancel deletes the Job and its pod', async () => {
  const job = jobLaunch(callbacks.url, { workflowId: 'wf-cancel', volumes: [] });
  const handle = await backend.launch(job, []);
  assert.equal(env.fake.objects('pods', NAMESPACE).filter((p) => p.metadata.name.startsWith(handle.ref)).length, 1);
  await backend.cancel(handle);
  await backend.cancel(handle);
  assert.equal(env.fake.get('jobs', NAMESPACE, handle.ref), undefined);
  assert.equal(env.fake.objects('pods', NAMESPACE).filter((p) => p.metadata.name.startsWith(handle.ref)).length, 0);
  assert.equal((await backend.status(handle)).phase, 'Unknown');
});

test('workspace files are read through a reader pod, which is removed afterwards', async () => {
  env.fake.runPod = (pod) => {
    const path = (pod.spec.containers[0].env as { value: string }[])[0]!.value;
    return path === 'result.txt' ? { exitCode: 0, logs: `${Buffer.from('uis: 42\n').toString('base64')}\n` } : { exitCode: 3, logs: '' };
  };
  assert.equal((await backend.readWorkspaceFile('wf-0001', 'result.txt'))?.toString(), 'uis: 42\n');
  assert.equal(await backend.readWorkspaceFile('wf-0001', 'missing.txt'), undefined);
  // The one relative-path rule: backslashes and control characters never reach a reader pod.
  for (const bad of ['../etc/passwd', 'a\\..\\b', 'a\nb', 'a/\u0000']) {
    await assert.rejects(backend.readWorkspaceFile('wf-0001', bad), (err: unknown) => err instanceof LedgerflowError && err.code === 'validation_failed');
  }
  assert.deepEqual(
    env.fake.objects('pods', NAMESPACE).filter((p) => p.metadata.labels?.['ledgerflow.io/role'] === 'reader'),
    [],
  );
});

test('the workspace is listed by a lister pod; cleanup keeps the claim of outputs pending review, deleteOutputs removes it', async () => {
  const workflowId = 'wf-listed';
  const claim = () => env.fake.get('persistentvolumeclaims', NAMESPACE, names.workspaceClaim(workflowId));
  assert.deepEqual(await backend.workspaceFiles(workflowId), [], 'no workspace, no files (and no pod left pending)');
  await backend.prepareWorkspace(workflowId, files);
  const listed: string[] = [];
  env.fake.runPod = (pod) => {
    listed.push(pod.metadata.name);
    const main = pod.spec.containers[0];
    assert.deepEqual(main.volumeMounts, [{ name: 'workspace', mountPath: '/workspace', readOnly: true }]);
    assert.equal(pod.metadata.labels?.['ledgerflow.io/role'], 'reader');
    return { exitCode: 0, logs: `BEGIN\nF 8 ${'a'.repeat(64)} ${Buffer.from('out/r.txt').toString('base64')}\nEND 0\n` };
  };
  assert.deepEqual(await backend.workspaceFiles(workflowId), [{ path: 'out/r.txt', size: 8, sha256: 'a'.repeat(64) }]);
  assert.equal(listed.length, 1);
  assert.match(listed[0]!, new RegExp(`^${runKey(workflowId)}-list-[0-9a-f]{6}$`));
  // Two owners releasing at the same moment each list through their own pod.
  const both = await Promise.all([backend.workspaceFiles(workflowId), backend.workspaceFiles(workflowId)]);
  assert.deepEqual(both[0], both[1]);
  assert.equal(new Set(listed).size, 3, 'one pod per listing');
  env.fake.runPod = () => ({ exitCode: 0, logs: `BEGIN\nF 8 ${'a'.repeat(64)} ${Buffer.from('../r.txt').toString('base64')}\nEND 0\n` });
  await assert.rejects(backend.workspaceFiles(workflowId), /refused/);
  assert.deepEqual(
    env.fake.objects('pods', NAMESPACE).filter((p) => p.metadata.labels?.['ledgerflow.io/role'] === 'reader'),
    [],
  );
  await backend.cleanup(workflowId, { keepOutputs: true });
  assert.ok(claim(), 'kept pending review');
  assert.equal(env.fake.get('configmaps', NAMESPACE, names.codeConfigMap(workflowId)), undefined);
  await backend.deleteOutputs(workflowId);
  assert.equal(claim(), undefined);
  await argo.prepareWorkspace(workflowId, files);
  await argo.cleanup(workflowId, { keepOutputs: true });
  assert.ok(claim());
  await argo.deleteOutputs(workflowId);
  assert.equal(claim(), undefined);
});

test('cleanup removes every object of the run, and only of that run, and can run again', async () => {
  const { fake } = env;
  const other = jobLaunch(callbacks.url, { workflowId: 'wf-other', volumes: [] });
  await backend.prepareWorkspace(other.workflowId, files);
  await backend.launch(other, []);
  await backend.cleanup('wf-0001');
  await backend.cleanup('wf-0001');
  for (const plural of ['jobs', 'pods', 'secrets', 'configmaps', 'persistentvolumeclaims', 'persistentvolumes']) {
    const left = fake.objects(plural).filter((o) => o.metadata.labels?.['ledgerflow.io/workflow-id'] === 'wf-0001');
    assert.deepEqual(
      left.map((o) => o.metadata.name),
      [],
      `${plural} left behind`,
    );
  }
  assert.ok(fake.get('configmaps', NAMESPACE, names.codeConfigMap('wf-other')));
  assert.equal(fake.objects('jobs', NAMESPACE).filter((j) => j.metadata.labels?.['ledgerflow.io/workflow-id'] === 'wf-other').length, 1);
});

// ---- Argo Workflows ----------------------------------------------------------------------

/** The thesis's complex workflow (listing 5.2): 1 before 2, 3, 4 in parallel, then 5. */
function thesisRun(callbackUrl: string): RunLaunch {
  const workflowId = 'wf-argo';
  const mk = (jobIndex: number, command: string, volume?: typeof azureVolume) =>
    jobLaunch(callbackUrl, {
      workflowId,
      jobIndex,
      jobName: `job${jobIndex}`,
      command,
      volumes: volume === undefined ? [] : [{ datasetId: volume.datasetId, name: volume.name, mountPath: volume.mountPath }],
      callback: { url: `${callbackUrl}/api/workflows/${workflowId}/jobs/job${jobIndex}/complete`, token: `token-${jobIndex}` },
    });
  return {
    workflowId,
    jobs: [
      mk(1, 'ls /home/jovyan/'),
      mk(2, 'python uis.py', azureVolume),
      mk(3, 'python uio.py'),
      mk(4, 'python uib.py', localVolume),
      mk(5, 'python final-result.py'),
    ],
    edges: [
      { from: 1, to: 2 },
      { from: 1, to: 3 },
      { from: 1, to: 4 },
      { from: 2, to: 5 },
      { from: 3, to: 5 },
      { from: 4, to: 5 },
    ],
    timeoutSeconds: 3600,
  };
}

test('argo: a whole run is one Workflow whose DAG mirrors the spec, and jobs map to its nodes', async () => {
  const { fake } = env;
  const run = thesisRun(callbacks.url);
  await argo.prepareWorkspace(run.workflowId, files);
  const handles = await argo.launchRun(run, [azureVolume, localVolume]);
  const wfName = names.runWorkflow(run.workflowId);
  assert.deepEqual(
    handles.map((h) => h.ref),
    [1, 2, 3, 4, 5].map((i) => `${wfName}/job-${i}`),
  );
  assert.deepEqual(await argo.launchRun(run, [azureVolume, localVolume]), handles);

  const wf = fake.get('workflows', NAMESPACE, wfName) as unknown as ArgoWorkflow;
  const tasks = wf.spec.templates.find((t) => t.name === wf.spec.entrypoint)!.dag!.tasks;
  assert.deepEqual(
    tasks.map((t) => [t.name, t.dependencies ?? []]),
    [
      ['job-1', []],
      ['job-2', ['job-1']],
      ['job-3', ['job-1']],
      ['job-4', ['job-1']],
      ['job-5', ['job-2', 'job-3', 'job-4']],
    ],
  );
  assert.ok(tasks.every((t) => t.hooks?.['exit']?.template === `notify-${t.name.slice(4)}`));
  assert.equal(wf.spec.automountServiceAccountToken, false);
  assert.ok(!JSON.stringify(wf).includes('token-1'));
  assert.ok(!JSON.stringify(wf).includes(AZURE_KEY));
  for (const job of run.jobs) assert.ok(fake.get('secrets', NAMESPACE, names.callbackSecret(run.workflowId, job.jobName, 1)));

  assert.equal((await argo.status(handles[1]!)).phase, 'Pending');
  fake.completeWorkflowNode(wfName, 'job-1', 0, 'uis\nuio\n');
  const first = await argo.status(handles[0]!);
  assert.equal(first.phase, 'Succeeded');
  assert.equal(first.exitCode, 0);
  assert.equal(await argo.logs(handles[0]!), 'uis\nuio\n');
  fake.completeWorkflowNode(wfName, 'job-2', 1, 'boom\n');
  assert.deepEqual([(await argo.status(handles[1]!)).phase, (await argo.status(handles[1]!)).exitCode], ['Failed', 1]);

  await argo.cancel(handles[4]!);
  assert.equal((fake.get('workflows', NAMESPACE, wfName) as unknown as ArgoWorkflow).spec.shutdown, 'Terminate');
  const never = await argo.status(handles[4]!);
  assert.equal(never.phase, 'Failed');
  assert.equal(never.exitCode, null);
  assert.match(never.message ?? '', /not run/);

  await argo.cleanup(run.workflowId);
  await argo.cleanup(run.workflowId);
  assert.equal(fake.get('workflows', NAMESPACE, wfName), undefined);
  for (const plural of ['secrets', 'configmaps', 'persistentvolumeclaims', 'persistentvolumes', 'pods']) {
    assert.deepEqual(
      fake
        .objects(plural)
        .filter((o) => o.metadata.labels?.['ledgerflow.io/run'] === runKey(run.workflowId))
        .map((o) => o.metadata.name),
      [],
      plural,
    );
  }
  assert.equal((await argo.status(handles[0]!)).phase, 'Unknown');
});

test('argo: a single attempt (the per-job port, and every retry) is a one-task Workflow', async () => {
  const job = jobLaunch(callbacks.url, { workflowId: 'wf-argo-one', attempt: 2 });
  const handle = await argo.launch(job, [azureVolume, localVolume]);
  const name = names.job(job.workflowId, job.jobName, 2);
  assert.deepEqual(handle, { backend: 'argo', ref: `${name}/job-2` });
  const wf = env.fake.get('workflows', NAMESPACE, name) as unknown as ArgoWorkflow;
  assert.deepEqual(
    wf.spec.templates.find((t) => t.name === 'dag')!.dag!.tasks.map((t) => t.name),
    ['job-2'],
  );
  env.fake.completeWorkflowNode(name, 'job-2', 0, 'ok\n');
  assert.equal((await argo.status(handle)).phase, 'Succeeded');
  await argo.cleanup(job.workflowId);
});

const run = promisify(execFile);
test('argo: the exit hook script posts the completion with the job token', async (t) => {
  const hasCurl = await run('/bin/sh', ['-c', 'command -v curl']).then(
    () => true,
    () => false,
  );
  if (!hasCurl) return t.skip('curl is not installed');
  const url = `${callbacks.url}/api/workflows/wf-argo/jobs/job3/complete`;
  const base = {
    CALLBACK_URL: url,
    CALLBACK_TOKEN: 'token-3',
    LF_WORKFLOW_ID_JSON: JSON.stringify('wf-"argo"'),
    LF_JOB_NAME_JSON: JSON.stringify('job3'),
    LF_ATTEMPT: '1',
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
  };
  await run('/bin/sh', ['-c', NOTIFY_SCRIPT], {
    env: { ...base, LF_EXIT_CODE: '3', LF_STARTED_AT: '2026-01-02T03:04:05Z', LF_ENDED_AT: '2026-01-02T03:05:00Z' },
  });
  const done = await callbacks.next();
  assert.equal(done.headers.authorization, 'Bearer token-3');
  assert.deepEqual(done.body, {
    workflowId: 'wf-"argo"',
    jobName: 'job3',
    attempt: 1,
    exitCode: 3,
    startedAt: '2026-01-02T03:04:05Z',
    endedAt: '2026-01-02T03:05:00Z',
  });
  // A task whose pod never ran: Argo leaves the exit code and times empty.
  await run('/bin/sh', ['-c', NOTIFY_SCRIPT], { env: { ...base, LF_EXIT_CODE: '', LF_STARTED_AT: '', LF_ENDED_AT: '' } });
  assert.deepEqual((await callbacks.next()).body, { workflowId: 'wf-"argo"', jobName: 'job3', attempt: 1, exitCode: null });
});

// ---- RBAC: infra/k8s grants exactly what the backends above called --------------------

test('every API call of the backends is allowed by infra/k8s, which grants nothing they never call', () => {
  const docs = loadManifests('rbac.yaml');
  const role = docs.find((d) => d.kind === 'Role' && d.metadata.name === 'ledgerflow-compute')!;
  const clusterRole = docs.find((d) => d.kind === 'ClusterRole' && d.metadata.name === 'ledgerflow-volumes')!;
  assert.equal(role.metadata.namespace, NAMESPACE);
  const namespaced = grants(role);
  const clusterWide = grants(clusterRole);
  const called = new Set<string>();
  for (const request of env.fake.requests) {
    const call = callOf(request);
    called.add(call);
    if (request.namespace === undefined) assert.ok(clusterWide.has(call), `cluster-scoped call not granted by the ClusterRole: ${call}`);
    else {
      assert.equal(request.namespace, NAMESPACE, `call outside the namespace: ${call}`);
      assert.ok(namespaced.has(call), `call not granted by the Role: ${call}`);
    }
  }
  assert.deepEqual([...namespaced, ...clusterWide].filter((g) => !called.has(g)).sort(), [], 'granted but never called');
});
