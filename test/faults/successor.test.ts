import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../bench/support/host';
import { DatasetsApi } from '../integration/datasets/client';

/**
 * A job that ends while no host runs: its completion callback went nowhere. With the status
 * poll set to ten minutes, only the start-up delivery of unreported exits can start the
 * successor within the deadline below; the test fails if it waits for the poll. Once after
 * kill -9, once after a graceful SIGTERM (which leaves running jobs running).
 */
const dirs: string[] = [];
const apis: DatasetsApi[] = [];
after(async () => {
  for (const api of apis) await api.host.kill();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const workflow = `jobs:
  - name: slow
    command: 'while [ ! -e go ]; do sleep 0.05; done'
    timeout: 5m
  - name: next
    command: 'echo next > next.txt'
dags:
  - slow >> next
`;

interface Run {
  status: string;
  jobs: { name: string; status: string }[];
}

async function runOf(api: DatasetsApi, id: string): Promise<Run> {
  const r = await api.call('alice', 'GET', `/workflows/${id}`);
  assert.equal(r.status, 200, r.text);
  return r.body as Run;
}

for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
  test(`the successor of a job that ended while the host was down (${signal}) starts right after the restart`, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'lf-fault-successor-'));
    dirs.push(dataDir);
    const settings = { COMPUTE: 'local', WORKFLOW_STATUS_POLL_SECONDS: '600' };
    const first = await DatasetsApi.start(settings, { dataDir });
    apis.push(first);
    const submitted = await first.call('alice', 'POST', '/workflows', { workflow });
    assert.equal(submitted.status, 202, submitted.text);
    const id = submitted.body.id as string;
    const jobDir = join(dataDir, 'runs', id, 'jobs', 'slow-1');
    await eventually(() => (existsSync(join(jobDir, 'wrapper.pid')) ? true : undefined), 60_000, 'slow to run');

    await first.host.stop(signal);
    writeFileSync(join(dataDir, 'runs', id, 'workspace', 'go'), '');
    const exitFile = join(jobDir, 'exit.json');
    await eventually(() => (existsSync(exitFile) ? true : undefined), 30_000, 'slow to end while no host runs');

    const second = await DatasetsApi.start(settings, { dataDir });
    apis.push(second);
    // Far below the ten-minute poll; generous for a loaded CI machine.
    const run = await eventually(
      async () => {
        const r = await runOf(second, id);
        return r.status === 'Succeeded' ? r : undefined;
      },
      20_000,
      'the successor to run after the restart',
    );
    assert.deepEqual(
      run.jobs.map((j) => [j.name, j.status]),
      [
        ['slow', 'Succeeded'],
        ['next', 'Succeeded'],
      ],
    );
    assert.ok(existsSync(join(jobDir, 'reported')), 'the exit is marked delivered');
  });
}
