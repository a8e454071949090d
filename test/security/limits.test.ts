import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from '../../bench/support/host';
import { DatasetsApi, hostileSettings, jobLog, oneJob, runWorkflow, submit } from './harness';

/**
 * Medium items 6, 7 and 8 of issue 12: a job's limits hold for the job as a whole (a
 * cgroup), not per process; a job cannot fork without bound; a workflow cannot start every
 * job at once; a job cannot fill the disk or the log. All through the real host, as root.
 */
let api: DatasetsApi;

before(async () => {
  api = await DatasetsApi.start(hostileSettings({ LOCAL_JOB_PIDS: '40', LOCAL_MAX_RUNNING_JOBS: '2', LOCAL_JOB_DISK: '64Mi', LOCAL_JOB_LOG_BYTES: '4096' }));
});
after(async () => {
  await api?.host.kill();
});

const EAT_40MB = `python3 -c 'import time; b = bytearray(40 * 1024 * 1024); time.sleep(3)'`;

test('memory is limited per job: three 40 MB processes do not fit in 100Mi together', async () => {
  const health = await api.call(null, 'GET', '/health');
  assert.equal(health.body.compute.limits.cgroup, 'v1', 'this machine has writable cgroup v1 hierarchies (DESIGN.md)');
  const run = await runWorkflow(
    api,
    'alice',
    oneJob(`${EAT_40MB} & a=$!; ${EAT_40MB} & b=$!; ${EAT_40MB} & c=$!; wait $a && wait $b && wait $c && echo all-fit`, '    resources: {memory: 100Mi}\n'),
  );
  assert.equal(run.status, 'Failed', await jobLog(api, 'alice', run.id));
  assert.doesNotMatch(await jobLog(api, 'alice', run.id), /all-fit/);
});

test('the job cgroup carries memory, swap, pids and cpu limits while it runs', async () => {
  const id = await submit(api, 'alice', oneJob('sleep 30', '    resources: {memory: 128Mi, cpu: 500m}\n'));
  const group = await eventually(() => readdirSync('/sys/fs/cgroup/memory/ledgerflow').find((g) => g.startsWith(`${id}.`)), 20_000, 'the job cgroup');
  const read = (controller: string, file: string) => readFileSync(join('/sys/fs/cgroup', controller, 'ledgerflow', group, file), 'utf8').trim();
  await eventually(() => (read('memory', 'cgroup.procs') === '' ? undefined : true), 20_000, 'the job to join its cgroup');
  assert.equal(read('memory', 'memory.limit_in_bytes'), String(128 * 2 ** 20));
  if (existsSync(join('/sys/fs/cgroup/memory/ledgerflow', group, 'memory.memsw.limit_in_bytes')))
    assert.equal(read('memory', 'memory.memsw.limit_in_bytes'), String(128 * 2 ** 20));
  assert.equal(read('pids', 'pids.max'), '40');
  assert.equal(read('cpu', 'cpu.cfs_quota_us'), '50000');
  await api.call('alice', 'POST', `/workflows/${id}/cancel`);
  await eventually(() => (existsSync(join('/sys/fs/cgroup/memory/ledgerflow', group)) ? undefined : true), 20_000, 'the cgroup to be removed');
});

test('memory "0" and memory above LOCAL_JOB_MAX_MEMORY are refused with the path', async () => {
  for (const memory of ['0', '100Ti']) {
    const r = await api.call('alice', 'POST', '/workflows', { workflow: oneJob('true', `    resources: {memory: ${memory}}\n`) });
    assert.equal(r.status, 400, `${memory}: ${r.text}`);
    assert.ok(
      r.body.error.details.some((d: { path: string }) => d.path === 'jobs[0].resources.memory'),
      r.text,
    );
  }
});

test('a job cannot run more than LOCAL_JOB_PIDS processes', async () => {
  const run = await runWorkflow(api, 'alice', oneJob('n=0; for i in $(seq 1 100); do sleep 5 & n=$((n+1)); done; echo started-all'));
  const log = await jobLog(api, 'alice', run.id);
  assert.match(log, /fork|Resource temporarily unavailable/i, log);
});

test('no more than LOCAL_MAX_RUNNING_JOBS jobs run at once; the rest wait Pending', async () => {
  const jobs = Array.from({ length: 5 }, (_, i) => `  - name: j${i}\n    command: 'sleep 4'\n`).join('');
  const id = await submit(api, 'alice', `jobs:\n${jobs}`);
  let most = 0;
  const view = await eventually(
    async () => {
      const v = (await api.call('alice', 'GET', `/workflows/${id}`)).body;
      const running = readdirSync('/sys/fs/cgroup/pids/ledgerflow').filter((g) => g.startsWith(`${id}.`)).length;
      most = Math.max(most, running);
      return ['Succeeded', 'Failed'].includes(v.status) ? v : undefined;
    },
    90_000,
    'the run to end',
  );
  assert.equal(view.status, 'Succeeded', JSON.stringify(view));
  assert.ok(most <= 2, `${most} jobs ran at once`);
});

test('a job that fills the workspace past LOCAL_JOB_DISK fails saying so', async () => {
  const run = await runWorkflow(api, 'alice', oneJob('for i in 1 2 3 4 5 6 7 8; do head -c 20M /dev/zero > f$i; done; sleep 10; echo survived'));
  assert.equal(run.status, 'Failed');
  const log = await jobLog(api, 'alice', run.id);
  assert.match(log, /disk quota of \d+ bytes \(LOCAL_JOB_DISK\) was exceeded/);
  assert.doesNotMatch(log, /survived/);
  // The run's status says why too, not only the log.
  const view = (await api.call('alice', 'GET', `/workflows/${run.id}`)).body as { jobs: { message?: string }[] };
  assert.match(view.jobs[0]?.message ?? '', /disk quota of \d+ bytes \(LOCAL_JOB_DISK\) was exceeded/, JSON.stringify(view));
});

test('a job log keeps LOCAL_JOB_LOG_BYTES and marks what was dropped', async () => {
  const run = await runWorkflow(api, 'alice', oneJob('seq 1 100000'));
  assert.equal(run.status, 'Succeeded');
  const log = await jobLog(api, 'alice', run.id);
  assert.ok(Buffer.byteLength(log) < 4096 + 200, `log of ${Buffer.byteLength(log)} bytes`);
  assert.match(log, /bytes of output dropped/);
});
