import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../../../bench/support/host';
import { QueueStore } from '../../../src/host/queue/queueStore';
import { DatasetsApi, type Who } from '../datasets/client';

/**
 * The workflow API end to end on one embedded host: ledger, durable engine, local sandboxed
 * runner, three organizations (uis, uio, uib) each owning a dataset, alice (uis) leasing
 * all three. The thesis' two experiments (listings 5.1 and 5.2), then retries, fail-fast,
 * cancel and cleanup. No timing assertions: order is checked from the jobs' own times.
 */
let api: DatasetsApi;
const ds: Record<'uis' | 'uio' | 'uib', string> = { uis: '', uio: '', uib: '' };

interface Job {
  index: number;
  name: string;
  status: string;
  exitCode: number | null;
  startedAt: string | null;
  endedAt: string | null;
  attempts: number;
}
interface Run {
  id: string;
  status: string;
  jobs: Job[];
}

const FINISHED = ['Succeeded', 'Failed', 'Canceled'];

async function submit(who: Who, body: unknown): Promise<string> {
  const r = await api.call(who, 'POST', '/workflows', body);
  assert.equal(r.status, 202, r.text);
  assert.match(r.body.statusUrl, new RegExp(`/api/workflows/${r.body.id}$`));
  return r.body.id as string;
}

/** The owners of uio and uib review and approve each run on their datasets, as the thesis
 * experiments now need (alice's own uis dataset needs no approval). */
const OWNERS: Record<string, Who> = { uio: 'bob', uib: 'carol' };
async function ownersApprove(id: string): Promise<void> {
  const approvals = await eventually(
    async () => {
      const r = await api.call('alice', 'GET', `/workflows/${id}`);
      return r.body.status === 'AwaitingApproval' && r.body.approvals !== undefined ? (r.body.approvals as { owner: string; state: string }[]) : undefined;
    },
    60_000,
    `workflow ${id} to await approval`,
  );
  for (const { owner } of approvals) {
    const review = await api.call(OWNERS[owner]!, 'GET', `/approvals/${id}`);
    assert.equal(review.status, 200, review.text);
    const r = await api.call(OWNERS[owner]!, 'POST', `/approvals/${id}/approve`, {});
    assert.equal(r.status, 200, r.text);
  }
}

async function finished(id: string): Promise<Run> {
  return eventually(
    async () => {
      const r = await api.call('alice', 'GET', `/workflows/${id}`);
      assert.equal(r.status, 200, r.text);
      return FINISHED.includes(r.body.status) ? (r.body as Run) : undefined;
    },
    120_000,
    `workflow ${id} to finish`,
  );
}

async function file(id: string, path: string): Promise<string> {
  const res = await fetch(`${api.host.url}/api/workflows/${id}/files/${path}`, { headers: { authorization: 'Bearer tok-alice-uis-7f3a9c' } });
  assert.equal(res.status, 200, await res.clone().text());
  return res.text();
}

const t = (iso: string | null) => Date.parse(iso ?? '');

before(async () => {
  api = await DatasetsApi.start({
    COMPUTE: 'local',
    WORKFLOW_STATUS_POLL_SECONDS: '2',
    WORKFLOW_WATCHDOG_SECONDS: '10',
    WORKFLOW_COMPLETION_GRACE_SECONDS: '5',
  });
  const files: Record<keyof typeof ds, Record<string, string>> = {
    uis: { 'notes.txt': 'lorem ipsum lorem\n', 'more/notes2.txt': 'dolor lorem sit\n' }, // 3
    uio: { 'text.txt': 'Lorem lorem lorem\nlorem\n' }, // 3 (lowercase only)
    uib: { 'a.txt': 'lorem', 'b.txt': 'ipsum lorem lorem' }, // 3
  };
  const owners: Record<keyof typeof ds, Who> = { uis: 'alice', uio: 'bob', uib: 'carol' };
  for (const org of ['uis', 'uio', 'uib'] as const) {
    const r = await api.call(owners[org], 'POST', '/datasets', { name: `${org}-texts`, files: files[org] });
    assert.equal(r.status, 201, r.text);
    ds[org] = r.body.id;
  }
});
after(async () => {
  await api?.host.kill();
});

test('a workflow on datasets not leased is refused, naming each volume (403)', async () => {
  const r = await api.call('alice', 'POST', '/workflows', {
    workflow: `jobs:\n  - command: 'ls /home/jovyan/uio'\n    volumes:\n      - {id: '${ds.uio}', name: 'uio', path: '/home/jovyan/uio'}\n`,
  });
  assert.equal(r.status, 403, r.text);
  assert.deepEqual(
    r.body.error.details.map((d: { path: string }) => d.path),
    ['jobs[0].volumes[0].id'],
  );
});

test('a bad workflow is refused with every error and its path (400)', async () => {
  const r = await api.call('alice', 'POST', '/workflows', 'jobs:\n  - command: ls\ndags:\n  - 1 >> 5\n', { 'content-type': 'application/yaml' });
  assert.equal(r.status, 400, r.text);
  assert.ok(r.body.error.details.length >= 1);
});

test('the thesis experiments run after alice leases the three datasets', async (tt) => {
  for (const org of ['uis', 'uio', 'uib'] as const) {
    const r = await api.call('alice', 'POST', `/datasets/${ds[org]}/lease`, { ttlSeconds: 3000 });
    assert.equal(r.status, 201, r.text);
  }

  await tt.test('listing 5.1: a linear workflow lists the mounted datasets into result.txt', async () => {
    // Job 1 of the listing is `ls /home/jovyan/`, the notebook image's home; the sandbox has
    // no /home/jovyan unless a dataset is mounted there, so it lists the workspace instead.
    const yaml = `jobs:
- command: 'ls'
- command: 'ls /home/jovyan/uis > result.txt'
  volumes:
    - id: '${ds.uis}'
      name: 'uis'
      path: '/home/jovyan/uis'
- command: 'ls /home/jovyan/uio >> result.txt'
  volumes:
    - id: '${ds.uio}'
      name: 'uio'
      path: '/home/jovyan/uio'
# Job index starts at 1.
dags:
- 1 >> 2
- 2 >> 3
`;
    const r = await api.call('alice', 'POST', '/workflows', yaml, { 'content-type': 'application/yaml' });
    assert.equal(r.status, 202, r.text);
    await ownersApprove(r.body.id);
    const run = await finished(r.body.id);
    assert.equal(run.status, 'Succeeded', JSON.stringify(run));
    assert.equal(await file(run.id, 'result.txt'), 'more\nnotes.txt\ntext.txt\n');
    const [j1, j2, j3] = run.jobs;
    assert.ok(t(j2!.startedAt) >= t(j1!.endedAt) && t(j3!.startedAt) >= t(j2!.endedAt), JSON.stringify(run.jobs));
    assert.ok(run.jobs.every((j) => j.exitCode === 0 && j.attempts === 1));
    const logs = await api.call('alice', 'GET', `/workflows/${run.id}/jobs/job-2/logs`);
    assert.equal(logs.status, 200);
    assert.equal((await api.call('bob', 'GET', `/workflows/${run.id}`)).status, 404, 'another organization does not see the run');
  });

  await tt.test('listing 5.2: three jobs count "lorem" in their organization\'s dataset in parallel, a final job sums', async () => {
    const counter = (org: string) =>
      [
        'import os',
        'n = 0',
        `for root, _, names in os.walk('/home/jovyan/${org}'):`,
        '    for name in names:',
        '        with open(os.path.join(root, name)) as f:',
        "            n += f.read().count('lorem')",
        `open('${org}.count', 'w').write(str(n))`,
        '',
      ].join('\n');
    const files = {
      'uis.py': counter('uis'),
      'uio.py': counter('uio'),
      'uib.py': counter('uib'),
      'final-result.py': "total = sum(int(open(f'{o}.count').read()) for o in ['uis', 'uio', 'uib'])\nopen('result.txt', 'w').write(f'lorem: {total}\\n')\n",
    };
    const vol = (org: keyof typeof ds) => `    volumes:\n      - {id: '${ds[org]}', name: '${org}', path: '/home/jovyan/${org}'}\n`;
    const workflow = `jobs:\n  - command: 'ls'\n  - command: 'python3 uis.py'\n${vol('uis')}  - command: 'python3 uio.py'\n${vol('uio')}  - command: 'python3 uib.py'\n${vol('uib')}  - command: 'python3 final-result.py'\ndags:\n  - 1 >> 2\n  - 1 >> 3\n  - 1 >> 4\n  - 2 >> 5\n  - 3 >> 5\n  - 4 >> 5\n`;
    const id = await submit('alice', { workflow, files });
    await ownersApprove(id);
    const run = await finished(id);
    assert.equal(run.status, 'Succeeded', JSON.stringify(run));
    assert.equal(await file(id, 'result.txt'), 'lorem: 9\n');
    const [j1, j2, j3, j4, j5] = run.jobs as [Job, Job, Job, Job, Job];
    for (const j of [j2, j3, j4]) assert.ok(t(j.startedAt) >= t(j1.endedAt), `${j.name} after job-1`);
    assert.ok(t(j5.startedAt) >= Math.max(t(j2.endedAt), t(j3.endedAt), t(j4.endedAt)), 'job-5 after 2, 3 and 4');
  });

  await tt.test('a failing job is retried and the run succeeds on its second attempt', async () => {
    const id = await submit('alice', { workflow: "jobs:\n  - command: 'if [ -f tried ]; then echo ok; else touch tried; exit 3; fi'\n    retries: 2\n" });
    const run = await finished(id);
    assert.equal(run.status, 'Succeeded', JSON.stringify(run));
    assert.equal(run.jobs[0]!.attempts, 2);
  });

  await tt.test('fail-fast: a failed job cancels the running one and skips its dependents', async () => {
    const id = await submit('alice', { workflow: "jobs:\n  - command: 'exit 4'\n  - command: 'sleep 60'\n  - command: 'echo never'\ndags:\n  - 1 >> 3\n" });
    const run = await finished(id);
    assert.equal(run.status, 'Failed');
    assert.deepEqual(
      run.jobs.map((j) => [j.status, j.exitCode]),
      [
        ['Failed', 4],
        ['Canceled', null],
        ['Skipped', null],
      ],
    );
  });

  await tt.test('cancel stops a running workflow; the rest is Canceled', async () => {
    const id = await submit('alice', { workflow: "jobs:\n  - command: 'sleep 60'\n  - command: 'echo never'\ndags:\n  - 1 >> 2\n" });
    await eventually(
      async () => ((await api.call('alice', 'GET', `/workflows/${id}`)).body.jobs[0].status === 'Running' ? true : undefined),
      60_000,
      'job-1 running',
    );
    assert.equal((await api.call('bob', 'POST', `/workflows/${id}/cancel`)).status, 404);
    const r = await api.call('alice', 'POST', `/workflows/${id}/cancel`);
    assert.equal(r.status, 202, r.text);
    const run = await finished(id);
    assert.equal(run.status, 'Canceled');
    assert.deepEqual(
      run.jobs.map((j) => j.status),
      ['Canceled', 'Canceled'],
    );
    assert.equal((await api.call('alice', 'POST', `/workflows/${id}/cancel`)).status, 409);
  });

  await tt.test("list shows alice's runs, newest first, filtered by status", async () => {
    const all = await api.call('alice', 'GET', '/workflows?limit=100');
    assert.equal(all.status, 200, all.text);
    assert.equal(all.body.items.length, 5);
    const failed = await api.call('alice', 'GET', '/workflows?status=Failed');
    assert.equal(failed.body.items.length, 1);
    assert.equal((await api.call('carol', 'GET', '/workflows')).body.items.length, 0);
  });

  await tt.test('cleanup runs once per run, also when its message is delivered again, and releases leases when asked', async () => {
    const id = await submit('alice', {
      workflow: `jobs:\n  - command: 'ls /home/jovyan/uib'\n    volumes:\n      - {id: '${ds.uib}', name: 'uib', path: '/home/jovyan/uib'}\n`,
      options: { releaseLeases: true },
    });
    await ownersApprove(id);
    assert.equal((await finished(id)).status, 'Succeeded');
    const cleaned = async (datasetId: string, workflowId: string) => {
      const h = await api.call('alice', 'GET', `/datasets/${datasetId}/history`);
      return (h.body.items as { action: string; value?: { workflowId?: string } }[]).filter(
        (e) => e.action === 'workflow-cleaned-up' && e.value?.workflowId === workflowId,
      ).length;
    };
    await eventually(async () => ((await cleaned(ds.uib, id)) === 1 ? true : undefined), 60_000, 'cleanup recorded');
    const lease = await api.call('alice', 'GET', `/datasets/${ds.uib}`);
    assert.equal(lease.body.state, 'free', 'the lease was released');
    new QueueStore(api.host.dataDir).enqueue('workflow-cleanup', {
      workflowId: id,
      caller: { user: 'alice', org: 'uis' },
      status: 'Succeeded',
      datasetIds: [ds.uib],
      releaseLeases: true,
    });
    await api.host.waitForLog((l) => l['msg'] === 'cleanup already started; message ignored' && l['workflowId'] === id, 30_000);
    assert.equal(await cleaned(ds.uib, id), 1);
  });
});
