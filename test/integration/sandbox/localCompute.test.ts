import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../../bench/support/host';
import { LedgerflowError } from '../../../src/core/errors';
import { LocalComputeBackend } from '../../../src/adapters/compute/local/localCompute';
import { detectSandbox, jobUserFor, probeSandbox } from '../../../src/adapters/compute/local/sandbox';
import type { JobHandle, JobLaunch, ResolvedVolume } from '../../../src/ports/compute';
import { jobOf, settled, supervisors } from './localJobs';

const kinds = (['bwrap', 'unshare'] as const).filter((kind) => detectSandbox(kind).kind === kind);
if (kinds.length === 0) {
  throw new Error(`no sandbox works on this machine: ${detectSandbox('auto').description}`);
}

/** Waits (with a deadline) until the job runs; a job that ended instead fails the wait at once. */
async function running(backend: LocalComputeBackend, handle: JobHandle): Promise<void> {
  await eventually(
    async () => {
      const { phase } = await backend.status(handle);
      if (phase !== 'Running' && phase !== 'Pending') throw new Error(`job ${handle.ref} ended (${phase}) before it was seen running`);
      return phase === 'Running' ? true : undefined;
    },
    30_000,
    `job ${handle.ref} to run`,
  );
}

test('without a working sandbox the backend says so and refuses to run jobs', async () => {
  const path = process.env['PATH'];
  process.env['PATH'] = '/nonexistent';
  let backend: LocalComputeBackend;
  try {
    backend = new LocalComputeBackend({ dataDir: mkdtempSync(join(tmpdir(), 'lf-nosandbox-')) });
  } finally {
    process.env['PATH'] = path;
  }
  assert.equal(backend.describe().sandbox, 'none');
  assert.match(backend.describe().description, /install bubblewrap/);
  await assert.rejects(backend.launch(jobOf('wf-none', 'true'), []), { code: 'unavailable' });
});

test('the probe that does not block finds what the blocking one finds, also with no sandbox', async () => {
  const user = jobUserFor({ uid: 61000, gid: 61000 });
  for (const preference of ['auto', 'bwrap', 'unshare'] as const) {
    assert.deepEqual(await probeSandbox(preference, user), detectSandbox(preference, user), preference);
  }
  const path = process.env['PATH'];
  process.env['PATH'] = '/nonexistent';
  try {
    const none = await probeSandbox('auto', user);
    assert.deepEqual(none, detectSandbox('auto', user));
    assert.equal(none.kind, undefined);
  } finally {
    process.env['PATH'] = path;
  }
});

for (const [kind, supervisor] of kinds.flatMap((k) => supervisors.map((s) => [k, s] as const))) {
  describe(`local compute in a ${kind} sandbox, ${supervisor} supervisor`, () => {
    let root: string;
    let dataDir: string;
    let leased: string;
    let unleased: string;
    let backend: LocalComputeBackend;
    const workflowId = `wf-${kind}-${supervisor}`;
    const volume = (): ResolvedVolume => ({ datasetId: 'ds-uis', name: 'uis', mountPath: '/home/jovyan/uis', location: { kind: 'local', path: leased } });
    const withVolume = (command: string, extra: Partial<JobLaunch> = {}) =>
      jobOf(workflowId, command, { volumes: [{ datasetId: 'ds-uis', name: 'uis', mountPath: '/home/jovyan/uis' }], ...extra });
    const run = async (job: JobLaunch, volumes: ResolvedVolume[] = job.volumes.length > 0 ? [volume()] : []) => {
      const handle = await backend.launch(job, volumes);
      const observation = await settled(backend, handle);
      return { handle, observation, log: await backend.logs(handle) };
    };

    before(async () => {
      root = mkdtempSync(join(tmpdir(), 'lf-sandbox-'));
      dataDir = join(root, 'data');
      leased = join(root, 'datasets', 'uis');
      unleased = join(root, 'datasets', 'uio');
      mkdirSync(leased, { recursive: true });
      mkdirSync(unleased, { recursive: true });
      writeFileSync(join(leased, 'a.txt'), 'lorem ipsum lorem\n');
      writeFileSync(join(unleased, 'secret.txt'), 'not yours\n');
      mkdirSync(join(dataDir, 'keys'), { recursive: true });
      writeFileSync(join(dataDir, 'keys', 'master.key'), 'host key material\n');
      backend = new LocalComputeBackend({ dataDir, sandbox: kind, supervisor });
      await backend.prepareWorkspace(workflowId, { 'count.py': 'print(1)\n', 'lib/util.sh': 'echo util\n' });
    });
    after(async () => {
      await backend.purge(workflowId);
      rmSync(root, { recursive: true, force: true });
    });

    test('describe() names the sandbox', () => {
      assert.equal(backend.describe().sandbox, kind);
    });

    test('a job reads its dataset, runs in the workspace, and its output is kept', async () => {
      const { observation, log } = await run(
        withVolume('cat /home/jovyan/uis/a.txt; pwd; sh lib/util.sh; echo oops >&2; grep -c lorem /home/jovyan/uis/a.txt > result.txt'),
      );
      assert.equal(observation.phase, 'Succeeded');
      assert.equal(observation.exitCode, 0);
      assert.ok(observation.startedAt && observation.endedAt);
      assert.match(log, /lorem ipsum lorem\n\/workspace\nutil\noops\n/);
      assert.equal(String(await backend.readWorkspaceFile(workflowId, 'result.txt')), '1\n');
      assert.equal(await backend.readWorkspaceFile(workflowId, 'missing.txt'), undefined);
    });

    test('a job cannot write to its dataset', async () => {
      const { observation, log } = await run(withVolume('touch /home/jovyan/uis/new.txt'));
      assert.equal(observation.phase, 'Failed');
      assert.match(log, /Read-only file system/);
      assert.deepEqual(readFileSync(join(leased, 'a.txt'), 'utf8'), 'lorem ipsum lorem\n');
    });

    // The dedicated user's stage binds the whole run dir (other jobs' folders too) over /tmp
    // before bwrap builds the job's root: none of it may reach the job.
    test('a job sees neither datasets it did not lease nor the data dir', async () => {
      const { observation, log } = await run(
        withVolume(
          `for p in ${unleased} ${dataDir} ${dataDir}/keys/master.key ${root} /home/jovyan/uio /tmp/jobs /tmp/etc /tmp/workspace; do test -e "$p" && echo "visible $p"; done; ls /; cat /proc/1/cmdline > cmdline.txt; echo checked`,
        ),
      );
      assert.equal(observation.phase, 'Succeeded');
      assert.doesNotMatch(log, /^visible/m);
      const pid1 = String(await backend.readWorkspaceFile(workflowId, 'cmdline.txt'));
      assert.ok(!pid1.includes(leased) && !pid1.includes(join(dataDir, 'runs')), `pid 1 shows host paths: ${pid1}`);
      assert.doesNotMatch(log, /^(root|work|var)$/m);
      assert.match(log, /checked/);
    });

    test('a job cannot open a network connection', async () => {
      let connections = 0;
      const server = createTcpServer((socket) => {
        connections++;
        socket.destroy();
      });
      await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
      const { port } = server.address() as AddressInfo;
      try {
        const { observation, log } = await run(jobOf(workflowId, `bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port}' && echo connected`));
        assert.equal(observation.phase, 'Failed');
        assert.doesNotMatch(log, /connected/);
        assert.equal(connections, 0);
      } finally {
        server.close();
      }
    });

    test('a job environment holds only PATH, HOME, LANG and its own env', async () => {
      process.env['LEDGERFLOW_TEST_MARKER'] = 'host-secret-0c9f';
      try {
        const { log } = await run(jobOf(workflowId, 'env; cat /proc/1/environ 2>/dev/null | tr "\\0" "\\n"', { env: { MODE: 'fast' } }));
        assert.doesNotMatch(log, /host-secret-0c9f/);
        const names = log
          .split('\n')
          .filter((l) => /^[A-Z_]+=/.test(l))
          .map((l) => l.split('=')[0]);
        assert.deepEqual([...new Set(names)].sort(), ['HOME', 'LANG', 'MODE', 'PATH', 'PWD']);
        assert.match(log, /^HOME=\/workspace$/m);
      } finally {
        delete process.env['LEDGERFLOW_TEST_MARKER'];
      }
    });

    test('the time limit kills the job and says so', async () => {
      const { observation } = await run(jobOf(workflowId, 'sleep 30', { timeoutSeconds: 1 }));
      assert.equal(observation.phase, 'Failed');
      assert.equal(observation.exitCode, 137);
      assert.equal(observation.message, 'timed out after 1s');
    });

    test('the memory limit is enforced', async () => {
      const grow = `awk 'BEGIN { s = "x"; for (i = 0; i < 28; i++) s = s s; print length(s) }'`;
      const limited = await run(jobOf(workflowId, grow, { resources: { memory: '64Mi' } }));
      assert.equal(limited.observation.phase, 'Failed');
      assert.match(limited.log, /memory/i);
      const unlimited = await run(jobOf(workflowId, grow, { resources: { memory: '2Gi' } }));
      assert.equal(unlimited.observation.phase, 'Succeeded');
      assert.match(unlimited.log, /268435456/);
    });

    test('status survives a host restart, also for a job that ends after it', async () => {
      const done = await run(jobOf(workflowId, 'echo bye; exit 3'));
      const running = await backend.launch(jobOf(workflowId, 'sleep 0.3; exit 4'), []);
      const restarted = new LocalComputeBackend({ dataDir, sandbox: kind, supervisor });
      assert.deepEqual(await restarted.status(done.handle), done.observation);
      assert.equal(done.observation.exitCode, 3);
      const later = await settled(restarted, running);
      assert.equal(later.exitCode, 4);
      assert.equal(later.phase, 'Failed');
      assert.equal(await restarted.logs(done.handle), 'bye\n');
    });

    test('a job outlives a host killed with SIGKILL, and its exit code is recorded', async () => {
      const job = jobOf(workflowId, 'sleep 0.5; echo survived; exit 7');
      const script = `
        const { LocalComputeBackend } = require(${JSON.stringify(require.resolve('../../../src/adapters/compute/local/localCompute'))});
        new LocalComputeBackend({ dataDir: ${JSON.stringify(dataDir)}, sandbox: ${JSON.stringify(kind)}, supervisor: ${JSON.stringify(supervisor)} })
          .launch(${JSON.stringify(job)}, []).then(() => process.stdout.write('launched'));
        setInterval(() => {}, 1000);`;
      const host = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise<void>((ok) => host.stdout.once('data', () => ok()));
      host.kill('SIGKILL');
      await new Promise((r) => host.once('exit', r));
      const handle: JobHandle = { backend: 'local', ref: `${workflowId}/${job.jobName}-1` };
      const restarted = new LocalComputeBackend({ dataDir, sandbox: kind, supervisor });
      const observation = await settled(restarted, handle);
      assert.equal(observation.exitCode, 7);
      assert.equal(await restarted.logs(handle), 'survived\n');
    });

    test('a supervisor that dies without a record (machine crash) reads as Failed', async () => {
      const job = jobOf(workflowId, 'sleep 30');
      const handle = await backend.launch(job, []);
      await running(backend, handle);
      const jobDir = join(dataDir, 'runs', workflowId, 'jobs', `${job.jobName}-1`);
      // The whole process group, as a power cut would: supervisor, watchdog, sandbox.
      process.kill(-Number(readFileSync(join(jobDir, 'wrapper.pid'), 'utf8')), 'SIGKILL');
      const observation = await settled(backend, handle);
      assert.equal(observation.phase, 'Failed');
      assert.equal(observation.exitCode, null);
      assert.match(observation.message ?? '', /without recording an exit code/);
    });

    test('launch is idempotent per (workflow, job, attempt)', async () => {
      const job = jobOf(workflowId, 'echo ran >> runs.txt');
      const [a, b] = await Promise.all([backend.launch(job, []), backend.launch(job, [])]);
      assert.deepEqual(a, b);
      await settled(backend, a);
      const again = await backend.launch(job, []);
      const afterRestart = await new LocalComputeBackend({ dataDir, sandbox: kind, supervisor }).launch(job, []);
      assert.deepEqual(again, a);
      assert.deepEqual(afterRestart, a);
      assert.equal(String(await backend.readWorkspaceFile(workflowId, 'runs.txt')), 'ran\n');
      const second = await backend.launch({ ...job, attempt: 2 }, []);
      await settled(backend, second);
      assert.equal(String(await backend.readWorkspaceFile(workflowId, 'runs.txt')), 'ran\nran\n');
    });

    test('cancel stops the job', async () => {
      const handle = await backend.launch(jobOf(workflowId, 'sleep 30'), []);
      await running(backend, handle);
      await backend.cancel(handle);
      const observation = await settled(backend, handle);
      assert.equal(observation.phase, 'Failed');
      assert.equal(observation.message, 'canceled');
    });

    test('result files cannot lead out of the workspace', async () => {
      await run(jobOf(workflowId, `ln -s /etc/passwd leak.txt; ln -s / rootlink; ln -s ${dataDir} datalink`));
      assert.equal(await backend.readWorkspaceFile(workflowId, 'leak.txt'), undefined); // as if missing: no host path is confirmed
      assert.equal(await backend.readWorkspaceFile(workflowId, 'rootlink/etc/passwd'), undefined); // as if missing: no host path is confirmed
      assert.equal(await backend.readWorkspaceFile(workflowId, 'datalink/keys/master.key'), undefined); // as if missing: no host path is confirmed
      await assert.rejects(backend.readWorkspaceFile(workflowId, '../data/keys/master.key'), { code: 'validation_failed' });
      await assert.rejects(backend.prepareWorkspace(workflowId, { 'rootlink/tmp/x': '' }), { code: 'forbidden' });
      await assert.rejects(backend.prepareWorkspace(workflowId, { '/abs': '' }), { code: 'validation_failed' });
    });

    test('volumes must match the spec, be local, and not hold the data dir', async () => {
      await assert.rejects(backend.launch(withVolume('true'), []), { code: 'bad_request' });
      await assert.rejects(
        backend.launch(withVolume('true'), [
          { ...volume(), location: { kind: 'azure-files', shareUrl: 'https://x.file.core.windows.net/s', credentialRef: 'k' } },
        ]),
        (err: unknown) => err instanceof LedgerflowError && err.code === 'bad_request' && /Azure Files/.test(err.message),
      );
      await assert.rejects(backend.launch(withVolume('true'), [{ ...volume(), location: { kind: 'local', path: root } }]), { code: 'forbidden' });
      await assert.rejects(backend.launch(withVolume('true'), [{ ...volume(), location: { kind: 'local', path: join(root, 'nope') } }]), { code: 'not_found' });
    });

    test('completion is posted to the callback with the bearer token', async () => {
      const received: { auth: string | undefined; body: unknown }[] = [];
      const server = createHttpServer((req: IncomingMessage, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c));
        req.on('end', () => {
          received.push({ auth: req.headers.authorization, body: JSON.parse(body) });
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
      const { port } = server.address() as AddressInfo;
      try {
        const job = jobOf(workflowId, 'exit 5', { callback: { url: `http://127.0.0.1:${port}/api/callback`, token: 'tok-123' } });
        const { observation } = await run(job);
        await eventually(() => (received.length > 0 ? true : undefined), 10_000, 'the completion callback');
        assert.deepEqual(received, [
          {
            auth: 'Bearer tok-123',
            body: { workflowId, jobName: job.jobName, attempt: 1, exitCode: 5, startedAt: observation.startedAt, endedAt: observation.endedAt },
          },
        ]);
      } finally {
        server.close();
      }
    });

    test('an exit goes to the in-process delivery when one is set, and to the callback when it is not taken', async () => {
      const posted: unknown[] = [];
      const server = createHttpServer((req: IncomingMessage, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c));
        req.on('end', () => {
          posted.push(JSON.parse(body));
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
      const { port } = server.address() as AddressInfo;
      const callback = { url: `http://127.0.0.1:${port}/api/callback`, token: 'tok-456' };
      const delivered: unknown[] = [];
      // Takes exit code 3, declines 4 (another host's run), fails on 6 (a stopped host).
      backend.deliverExitsTo(async (exit) => {
        if (exit.exitCode === 6) throw new Error('the host is gone');
        delivered.push(exit);
        return exit.exitCode === 3;
      });
      const reported = async (handle: JobHandle) => !(await backend.unreportedExits()).some((e) => e.handle.ref === handle.ref);
      try {
        const taken = jobOf(workflowId, 'exit 3', { callback });
        const { handle, observation } = await run(taken);
        await eventually(async () => ((await reported(handle)) ? true : undefined), 10_000, 'the in-process delivery');
        assert.deepEqual(delivered, [
          { workflowId, jobName: taken.jobName, attempt: 1, exitCode: 3, startedAt: observation.startedAt, endedAt: observation.endedAt },
        ]);
        assert.deepEqual(posted, []);

        for (const code of [4, 6]) {
          const declined = jobOf(workflowId, `exit ${code}`, { callback });
          await run(declined);
          await eventually(() => (posted.some((p) => (p as { jobName: string }).jobName === declined.jobName) ? true : undefined), 10_000, 'the callback');
        }
        assert.equal(posted.length, 2);
      } finally {
        backend.deliverExitsTo(undefined);
        server.close();
      }
    });

    test('cleanup keeps results and logs, purge removes the run', async () => {
      const wf = `${workflowId}-clean`;
      await backend.prepareWorkspace(wf, {});
      const done = await backend.launch(jobOf(wf, 'echo kept > out.txt; echo log'), []);
      await settled(backend, done);
      const running = await backend.launch(jobOf(wf, 'sleep 30'), []);
      await backend.cleanup(wf);
      assert.equal((await settled(backend, running)).message, 'canceled');
      assert.equal(String(await backend.readWorkspaceFile(wf, 'out.txt')), 'kept\n');
      assert.equal(await backend.logs(done), 'log\n');
      await backend.cleanup(wf);
      await backend.purge(wf);
      assert.equal(await backend.readWorkspaceFile(wf, 'out.txt'), undefined);
      assert.equal((await backend.status(done)).phase, 'Unknown');
    });
  });
}
