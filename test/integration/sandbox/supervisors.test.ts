import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalComputeBackend } from '../../../src/adapters/compute/local/localCompute';
import { detectSandbox } from '../../../src/adapters/compute/local/sandbox';
import { nativeSupervisor, supervisorCommand } from '../../../src/adapters/compute/local/supervisor';
import { jobOf, settled, supervisors } from './localJobs';

/**
 * The C supervisor (ledgerflow-job.c) and the shell one it falls back to keep the same
 * files: the log capped with the same marker, log.index samples, the exit code of a job that
 * exits or is killed, and the disk quota's stop. (Time and memory limits, crashes and
 * restarts: localCompute.test.ts, run with each supervisor.)
 */
const kind = detectSandbox('auto').kind;
const LOG_BYTES = 4096;
const DISK_BYTES = 1024 * 1024;

/** Runs the supervisor itself around `sh -c command` (no sandbox: the supervisor is what is
 * tested), detached as the spawner starts it (it ends by killing its process group), and
 * returns its exit record and log. */
async function supervise(supervisor: 'native' | 'sh', root: string, procs: string, command: string): Promise<{ exit: unknown; log: string }> {
  const dir = mkdtempSync(join(root, 'job-'));
  const ws = join(dir, 'ws');
  mkdirSync(ws);
  const common = [dir, '60', '0', '4096', '2048', '0', procs, '0', ws];
  const { file, args } = supervisorCommand(supervisor === 'native' ? nativeSupervisor() : undefined, common, {
    stage: undefined,
    sandbox: { file: '/bin/sh', args: ['-c', command] },
  });
  const child = spawn(file, args, { cwd: dir, detached: true, stdio: 'ignore' });
  await new Promise((done) => child.once('exit', done));
  return { exit: JSON.parse(readFileSync(join(dir, 'exit.json'), 'utf8')), log: readFileSync(join(dir, 'log'), 'utf8') };
}

for (const supervisor of supervisors) {
  test(`the ${supervisor} supervisor does not run a job that cannot join its cgroups`, async () => {
    const root = mkdtempSync(join(tmpdir(), 'lf-supervisor-'));
    try {
      assert.deepEqual(await supervise(supervisor, root, '-', 'echo ran'), { exit: { exitCode: 0 }, log: 'ran\n' });
      const missing = `${join(root, 'no-such-group', 'cgroup.procs')} ${join(root, 'nor-this', 'cgroup.procs')}`;
      const { exit, log } = await supervise(supervisor, root, missing, 'echo ran');
      assert.deepEqual(exit, { exitCode: 1 });
      assert.doesNotMatch(log, /ran/);
      assert.match(log, /no-such-group/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  describe(`the ${supervisor} supervisor`, { skip: kind === undefined && 'no sandbox works here' }, () => {
    let root: string;
    let backend: LocalComputeBackend;
    const workflowId = `wf-${supervisor}`;
    const run = async (command: string) => {
      const job = jobOf(workflowId, command);
      const handle = await backend.launch(job, []);
      const observation = await settled(backend, handle);
      const dir = join(root, 'runs', workflowId, 'jobs', `${job.jobName}-1`);
      return { observation, log: await backend.logs(handle), dir };
    };

    before(async () => {
      root = mkdtempSync(join(tmpdir(), 'lf-supervisor-'));
      backend = new LocalComputeBackend({ dataDir: root, supervisor, logBytes: LOG_BYTES, diskBytes: DISK_BYTES });
      await backend.prepareWorkspace(workflowId, {});
    });
    after(async () => {
      await backend.purge(workflowId);
      rmSync(root, { recursive: true, force: true });
    });

    test('the log keeps its first bytes and says how many more were dropped', async () => {
      const { observation, log } = await run(`head -c 10000 /dev/zero | tr '\\0' a; echo; exit 3`);
      assert.equal(observation.exitCode, 3);
      assert.equal(log, `${'a'.repeat(LOG_BYTES)}\n[ledgerflow: 5905 more bytes of output dropped: the log is capped at ${LOG_BYTES} bytes]\n`);
    });

    test('a log within its cap is kept whole, with no marker', async () => {
      const { observation, log } = await run('printf "one\\ntwo\\n"');
      assert.equal(observation.phase, 'Succeeded');
      assert.equal(log, 'one\ntwo\n');
    });

    test('a job killed by a signal exits 128 + the signal', async () => {
      const { observation } = await run('kill -TERM $$');
      assert.equal(observation.phase, 'Failed');
      assert.equal(observation.exitCode, 143);
    });

    test('log.index samples the log as it grows: size, then mtime in s.ns', async () => {
      const { observation, dir } = await run('echo one; sleep 0.5; echo two; sleep 0.5; echo three');
      assert.equal(observation.phase, 'Succeeded');
      const entries = readFileSync(join(dir, 'log.index'), 'utf8').trimEnd().split('\n');
      let size = -1;
      for (const entry of entries) {
        const match = /^([0-9]+) ([0-9]+)\.([0-9]{9})$/.exec(entry);
        assert.ok(match, `bad entry ${JSON.stringify(entry)}`);
        assert.ok(Number(match[1]) > size, `sizes grow: ${entries.join(', ')}`);
        size = Number(match[1]);
      }
      assert.ok(size >= 'one\n'.length && size <= 'one\ntwo\nthree\n'.length);
    });

    test('a workspace over its quota stops the job and says so', async () => {
      const { observation } = await run('for i in 1 2 3; do head -c 900000 /dev/zero > f$i; done; sleep 20');
      assert.equal(observation.phase, 'Failed');
      assert.equal(observation.exitCode, 137);
      assert.match(observation.message ?? '', /disk quota/);
      for (const file of ['f1', 'f2', 'f3']) rmSync(join(root, 'runs', workflowId, 'workspace', file), { force: true });
    });
  });
}
