import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../../bench/support/host';
import { DatasetsApi } from '../datasets/client';

/**
 * kill -9 of the host in the middle of a run, then a restart on the same data dir. The DAG
 * has, at the kill, a finished job (`first`), a job in flight (`slow`) and a pending job
 * (`last`, after both). Every job appends to `lines.txt` in the workspace, so the file
 * counts how often each ran. What the design promises (docs/workflows.md, README "the local
 * job sandbox"): the run continues from its stored history; a job that finished does not run
 * again; a job in flight survives the host (its detached supervisor records the exit code),
 * so it runs exactly once and its outcome is read after the restart.
 *
 * `slow` waits for a file the test writes only after the restart, so the kill lands while
 * it runs without any timing guess. A second run's `slow` ends while no host runs: its
 * outcome is read from the job's files after the restart.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'lf-wf-crash-'));
const apis: DatasetsApi[] = [];
after(async () => {
  for (const api of apis) await api.host.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

const boot = async (): Promise<DatasetsApi> => {
  const api = await DatasetsApi.start({ COMPUTE: 'local', WORKFLOW_STATUS_POLL_SECONDS: '1', WORKFLOW_WATCHDOG_SECONDS: '5' }, { dataDir });
  apis.push(api);
  return api;
};

interface Run {
  status: string;
  jobs: { name: string; status: string; exitCode: number | null; attempts: number }[];
}
const runOf = async (api: DatasetsApi, id: string): Promise<Run> => {
  const r = await api.call('alice', 'GET', `/workflows/${id}`);
  assert.equal(r.status, 200, r.text);
  return r.body as Run;
};

const workflow = `jobs:
  - name: first
    command: 'echo first >> lines.txt'
  - name: slow
    command: 'echo slow-start >> lines.txt; while [ ! -e go ]; do sleep 0.1; done; echo slow-end >> lines.txt'
    timeout: 5m
  - name: last
    command: 'echo last >> lines.txt; sort lines.txt > result.txt'
dags:
  - first >> last
  - slow >> last
`;

const workspaceOf = (id: string) => join(dataDir, 'runs', id, 'workspace');
const linesOf = (id: string): string[] => {
  const file = join(workspaceOf(id), 'lines.txt');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
};

test('runs survive kill -9 of the host: finished jobs do not run again, the job in flight runs once', async () => {
  // Two runs: `slow` of the first ends after the restart, `slow` of the second while no host runs.
  const first = await boot();
  const ids: string[] = [];
  for (let i = 0; i < 2; i++) {
    const submitted = await first.call('alice', 'POST', '/workflows', { workflow });
    assert.equal(submitted.status, 202, submitted.text);
    ids.push(submitted.body.id as string);
  }
  const [afterRestart, whileDown] = ids as [string, string];

  // The kill comes once each run has recorded `first` as finished and `slow` as running.
  for (const id of ids) {
    const before = await eventually(
      async () => {
        const run = await runOf(first, id);
        const [a, b] = run.jobs;
        return a?.status === 'Succeeded' && b?.status === 'Running' && linesOf(id).includes('slow-start') ? run : undefined;
      },
      60_000,
      'first finished and slow running',
    );
    assert.equal(before.jobs[2]?.status, 'Pending');
  }
  first.host.child.kill('SIGKILL');
  await first.host.exited;

  // A job's supervisor is its own process group: the host's death does not take it along.
  for (const id of ids) {
    const supervisor = Number(readFileSync(join(dataDir, 'runs', id, 'jobs', 'slow-1', 'wrapper.pid'), 'utf8'));
    assert.doesNotThrow(() => process.kill(supervisor, 0), 'the supervisor of the job in flight outlived the host');
  }
  writeFileSync(join(workspaceOf(whileDown), 'go'), '');
  await eventually(
    () => (existsSync(join(dataDir, 'runs', whileDown, 'jobs', 'slow-1', 'exit.json')) ? true : undefined),
    30_000,
    'slow to end while no host runs',
  );

  const second = await boot();
  assert.equal((await runOf(second, afterRestart)).status, 'Running');
  writeFileSync(join(workspaceOf(afterRestart), 'go'), '');

  for (const id of ids) {
    const run = await eventually(
      async () => {
        const r = await runOf(second, id);
        return ['Succeeded', 'Failed', 'Canceled'].includes(r.status) ? r : undefined;
      },
      60_000,
      'the run to finish after the restart',
    );
    assert.equal(run.status, 'Succeeded', JSON.stringify(run));
    assert.deepEqual(
      run.jobs.map((j) => [j.name, j.status, j.exitCode, j.attempts]),
      [
        ['first', 'Succeeded', 0, 1],
        ['slow', 'Succeeded', 0, 1],
        ['last', 'Succeeded', 0, 1],
      ],
    );
    const counts: Record<string, number> = {};
    for (const line of linesOf(id)) counts[line] = (counts[line] ?? 0) + 1;
    assert.deepEqual(counts, { first: 1, 'slow-start': 1, 'slow-end': 1, last: 1 }, linesOf(id).join(', '));
    assert.deepEqual(readdirSync(join(dataDir, 'runs', id, 'jobs')).sort(), ['first-1', 'last-1', 'slow-1'], 'one attempt each');
    const result = await fetch(`${second.host.url}/api/workflows/${id}/files/result.txt`, { headers: { authorization: 'Bearer tok-alice-uis-7f3a9c' } });
    assert.equal(result.status, 200);
    assert.equal(await result.text(), 'first\nlast\nslow-end\nslow-start\n');
  }
});
