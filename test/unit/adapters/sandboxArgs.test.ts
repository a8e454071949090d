import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bwrapArgs, sandboxCommand, shellQuote, stagedSandbox, unshareSetupScript, type SandboxPlan } from '../../../src/adapters/compute/local/sandbox';
import { SUPERVISOR_NAME, supervisorCommand } from '../../../src/adapters/compute/local/supervisor';

const plan: SandboxPlan = {
  workspace: '/data/runs/w1/workspace',
  etcDir: '/data/runs/w1/etc',
  rootDir: '/data/runs/w1/jobs/job-1-1/root',
  volumes: [{ source: "/srv/it's data", target: '/home/jovyan/uis' }],
  env: { PATH: '/usr/bin:/bin', HOME: '/workspace', MODE: 'a b' },
  command: 'python uis.py > result.txt',
};

test('bubblewrap: no network, no capabilities, clean env, read-only dataset, writable workspace', () => {
  const args = bwrapArgs(plan);
  assert.deepEqual(sandboxCommand('bwrap', plan).args, ['--args', '3', '/bin/sh', '-c', plan.command]);
  assert.equal(sandboxCommand('bwrap', plan).fd3, `${args.slice(0, -3).join('\0')}\0`);
  for (const flag of ['--unshare-all', '--die-with-parent', '--new-session', '--clearenv']) assert.ok(args.includes(flag), flag);
  const pairs = args.map((a, i) => `${a} ${args[i + 1]}`);
  assert.ok(pairs.includes('--cap-drop ALL'));
  assert.ok(args.join(' ').includes("--ro-bind /srv/it's data /home/jovyan/uis"));
  assert.ok(args.join(' ').includes('--bind /data/runs/w1/workspace /workspace'));
  assert.ok(args.join(' ').includes('--setenv MODE a b'));
  assert.deepEqual(args.slice(-3), ['/bin/sh', '-c', plan.command]);
  // The only read-write bind is the workspace; nothing of the host but system trees.
  assert.equal(args.filter((a) => a === '--bind').length, 1);
  assert.ok(!args.some((a) => a === '/home' || a === '/root' || a === '/var'));
});

test('unshare fallback: same view, then every capability dropped', () => {
  const script = unshareSetupScript(plan);
  assert.match(script, /mount --rbind '\/srv\/it'\\''s data' "\$R"'\/home\/jovyan\/uis'/);
  assert.match(script, /mount -o remount,bind,ro "\$R"'\/home\/jovyan\/uis'/);
  assert.match(script, /pivot_root \. \.old\numount -l \/\.old/);
  assert.match(
    script,
    /exec setpriv --no-new-privs --inh-caps=-all --ambient-caps=-all --bounding-set=-all -- \/usr\/bin\/env -i 'PATH=\/usr\/bin:\/bin' 'HOME=\/workspace' 'MODE=a b' \/bin\/sh -c 'python uis.py > result.txt'$/,
  );
});

test('dedicated job user: the stage shows the run dir over /tmp, datasets bound onto their points first', () => {
  const user = { mode: 'dedicated' as const, uid: 61000, gid: 61000 };
  const stage = { runDir: '/data/runs/w1', volumePoints: ['/data/runs/w1/jobs/job-1-1/mounts/v0'] };
  const command = sandboxCommand('bwrap', plan, user, stage);
  assert.equal(command.file, 'unshare');
  assert.deepEqual(command.args.slice(0, 6), ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c']);
  const script = command.args[6]!;
  const lines = script.split('\n');
  assert.deepEqual(lines.slice(2, 4), [`mount --bind '/srv/it'\\''s data' '/data/runs/w1/jobs/job-1-1/mounts/v0'`, `mount --rbind '/data/runs/w1' /tmp`]);
  assert.match(lines.at(-1)!, /^exec setpriv --reuid=61000 --regid=61000 --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs -- "\$@"$/);
  // The sandbox sees the staged paths: nothing of the host path but through /tmp.
  const inner = command.fd3!.split('\0');
  const pairs = inner.map((a, i) => `${a} ${inner[i + 1]} ${inner[i + 2]}`);
  assert.ok(pairs.includes('--bind /tmp/workspace /workspace'));
  assert.ok(pairs.includes('--ro-bind /tmp/jobs/job-1-1/mounts/v0 /home/jovyan/uis'));
  assert.ok(pairs.includes('--ro-bind /tmp/etc/passwd /etc/passwd'));
  assert.ok(!inner.some((a) => a.startsWith('/data/')));
});

test('dedicated job user: no stage layout, or a path outside the run dir, is refused', () => {
  const user = { mode: 'dedicated' as const, uid: 61000, gid: 61000 };
  assert.throws(() => sandboxCommand('bwrap', plan, user), /stage layout/);
  assert.throws(() => sandboxCommand('bwrap', plan, user, { runDir: '/data/runs/w1', volumePoints: [] }), /stage layout/);
  assert.throws(() => sandboxCommand('bwrap', plan, user, { runDir: '/data/runs/w2', volumePoints: ['/data/runs/w2/v0'] }), /not inside the run directory/);
});

test('the C supervisor is given the stage as arguments, the shell one the programs that make it', () => {
  const user = { mode: 'dedicated' as const, uid: 61000, gid: 61001 };
  const stage = { runDir: '/data/runs/w1', volumePoints: ['/data/runs/w1/jobs/job-1-1/mounts/v0'] };
  const staged = stagedSandbox('bwrap', plan, user, stage);
  const common = ['/data/runs/w1/jobs/job-1-1', '60', '0', '4096', '8', '0', '-', '4', '/data/runs/w1/workspace'];
  const native = supervisorCommand('/opt/ledgerflow-job', common, staged);
  assert.equal(native.file, '/opt/ledgerflow-job');
  assert.deepEqual(native.args, [
    ...common,
    'stage',
    '61000',
    '61001',
    '/data/runs/w1',
    '1',
    "/srv/it's data",
    '/data/runs/w1/jobs/job-1-1/mounts/v0',
    'bwrap',
    '--args',
    '3',
    '/bin/sh',
    '-c',
    plan.command,
  ]);
  const shell = supervisorCommand(undefined, common, staged);
  assert.equal(shell.file, '/bin/sh');
  assert.deepEqual(shell.args.slice(2), [SUPERVISOR_NAME, ...common, 'unshare', ...sandboxCommand('bwrap', plan, user, stage).args]);
  // A host that is not root: no stage, the sandbox program as it is.
  const unstaged = stagedSandbox('bwrap', plan, { mode: 'host-user', uid: 1000, gid: 1000 });
  assert.deepEqual(supervisorCommand('/opt/ledgerflow-job', common, unstaged).args, [...common, '-', 'bwrap', '--args', '3', '/bin/sh', '-c', plan.command]);
});

test('shell quoting survives quotes', () => {
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
});
