import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../../bench/support/host';
import { encodeRequest, nativeHelper, replyOf, supervisorSpawner, type SpawnerKind } from '../../../src/adapters/compute/local/spawner';

/**
 * The supervisor spawner (a helper process that starts job supervisors for the host): a
 * start resolves once the process runs, a program that cannot start is refused, and a
 * helper that dies (killed, crashed) neither loses the exit of a supervisor it started nor
 * stops the next start. Each with both helpers: the C one (where `npm run build` made it)
 * and the node one, the fallback.
 */
const kinds: SpawnerKind[] = nativeHelper() === undefined ? ['node'] : ['native', 'node'];
const env = { PATH: '/usr/bin:/bin' };

/** Neither the helper nor the supervisors keep a host alive (it serves HTTP meanwhile): the
 * test keeps its own event loop going while it waits for an exit. */
async function alive<T>(work: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => undefined, 1000);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/** The spawner helpers this process runs (its children running spawnerProcess.js). */
function helpers(): number[] {
  return readdirSync(`/proc/${process.pid}/task`)
    .flatMap((tid) => readFileSync(`/proc/${process.pid}/task/${tid}/children`, 'utf8').split(' '))
    .filter((pid) => pid !== '')
    .map(Number)
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        return cmdline.includes('spawnerProcess.js') || cmdline.includes('ledgerflow-spawner');
      } catch {
        return false;
      }
    });
}

for (const kind of kinds) {
  test(`starts a detached process, writes its pid file, says when it exited, and refuses one that cannot start (${kind} helper)`, () =>
    alive(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'lf-spawner-'));
      try {
        const spawner = supervisorSpawner(kind);
        const pidFile = join(dir, 'supervisor.pid');
        const started = await spawner.start('/bin/sh', ['-c', 'echo $$ > pid; exit 3'], { cwd: dir, env, pidFile });
        // Written before the start resolved, as the host's status() reads it from then on.
        assert.equal(readFileSync(pidFile, 'utf8'), `${started.pid}\n`);
        await started.exited;
        assert.equal(readFileSync(join(dir, 'pid'), 'utf8').trim(), String(started.pid));
        await assert.rejects(spawner.start(join(dir, 'no-such-program'), [], { cwd: dir, env }), /could not be started/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }));

  test(`a supervisor starts in its groups, made with their limits, which are gone before it is said to have exited (${kind} helper)`, () =>
    alive(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'lf-spawner-'));
      try {
        // Stand-ins for cgroupfs: directories, and a limit file outside them (a real group's
        // files go with it; a plain directory holding one could not be removed).
        const groups = [join(dir, 'memory'), join(dir, 'pids')];
        const limit = join(dir, 'limit');
        const started = await supervisorSpawner(kind).start('/bin/sh', ['-c', `[ -d ${groups[0]} ] && [ -d ${groups[1]} ] && cat ${limit} > seen`], {
          cwd: dir,
          env,
          cgroups: { dirs: groups, writes: [{ file: limit, value: '512' }] },
        });
        assert.deepEqual(await started.exited, { groupsRemoved: true });
        assert.equal(readFileSync(join(dir, 'seen'), 'utf8'), '512');
        for (const group of groups) assert.ok(!existsSync(group), `${group} removed`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }));

  test(`a helper that dies loses no exit, and the next start gets a new helper (${kind} helper)`, () =>
    alive(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'lf-spawner-'));
      try {
        const spawner = supervisorSpawner(kind);
        // Runs until the test lets it end, by removing the file it waits on.
        const waitFile = join(dir, 'hold');
        // Its groups (a stand-in directory): the host removes them once the helper cannot.
        const group = join(dir, 'group');
        const started = await spawner.start('/bin/sh', ['-c', `: > ${waitFile}; while [ -e ${waitFile} ]; do sleep 0.05; done`], {
          cwd: dir,
          env,
          cgroups: { dirs: [group], writes: [] },
        });
        let exited = false;
        void started.exited.then(() => (exited = true));
        // Started is not yet running its script: on a busy machine the file came after the rm below.
        await eventually(() => (existsSync(waitFile) ? true : undefined), 10_000, 'the supervisor to run');
        const before = helpers();
        assert.ok(before.length > 0, 'a helper runs');
        for (const pid of before) process.kill(pid, 'SIGKILL');
        await eventually(() => (helpers().some((pid) => before.includes(pid)) ? undefined : true), 10_000, 'the helper to be gone');
        process.kill(started.pid, 0); // the supervisor it started runs on
        assert.equal(exited, false);
        assert.ok(existsSync(group));
        rmSync(waitFile);
        await started.exited;
        assert.ok(!existsSync(group), 'the groups of a supervisor whose helper died are removed once it exited');
        const again = await spawner.start('/bin/sh', ['-c', 'exit 0'], { cwd: dir, env });
        await again.exited;
        assert.ok(helpers().every((pid) => !before.includes(pid)));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }));
}

test("the C helper's request and reply formats", () => {
  const request = encodeRequest({
    id: 7,
    file: '/bin/sh',
    args: ['-c', 'a b'],
    cwd: '/tmp',
    env: { PATH: '/bin' },
    pidFile: '/tmp/p',
    cgroups: { dirs: ['/g'], writes: [{ file: '/g/pids.max', value: '5' }] },
  });
  const body = ['7', '/bin/sh', '/tmp', '/tmp/p', '2', '-c', 'a b', '1', 'PATH=/bin', '1', '/g', '1', '/g/pids.max', '5'].map((f) => `${f}\0`).join('');
  assert.equal(request.toString(), `${Buffer.byteLength(body)}\n${body}`);
  assert.throws(() => encodeRequest({ id: 1, file: '/bin/sh', args: ['a\0b'], cwd: '/', env: {} }), /NUL/);
  assert.deepEqual(replyOf('pid 3 1234'), { id: 3, pid: 1234 });
  assert.deepEqual(replyOf('error 3 /x: No such file or directory'), { id: 3, error: '/x: No such file or directory' });
  assert.deepEqual(replyOf('exited 3 0'), { id: 3, exited: true });
  assert.deepEqual(replyOf('exited 3 1'), { id: 3, exited: true, groupsLeft: true });
  assert.equal(replyOf('garbage'), undefined);
});
