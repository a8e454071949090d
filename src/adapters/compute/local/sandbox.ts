import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { isAbsolute, posix, relative } from 'node:path';
import { LedgerflowError } from '../../../core/errors';

/**
 * How a job process is isolated on one machine. bubblewrap builds the whole view in one
 * exec; util-linux `unshare` is the fallback where bubblewrap is missing, with a setup
 * script that builds the same view by hand and then drops every capability.
 *
 * The view: a tmpfs root holding read-only /usr (and /bin, /lib*, /sbin as the host has
 * them), a few /etc files needed to run sh and python, a synthetic passwd/group, fresh
 * /proc (new pid namespace), minimal /dev, tmpfs /tmp, the workflow workspace read-write at
 * /workspace (the working directory), and each leased dataset read-only at its mount path.
 * New network namespace (loopback only), no capabilities, a clean environment.
 *
 * Never host root: bubblewrap or unshare started by root map the job to host root whatever
 * uid it shows inside, and such a job could write /proc/sys. A host running as root
 * therefore stages the job's host directories in a private mount namespace (the data dir
 * is 0700, so the job's user could not even reach them) and then drops to the dedicated
 * job user with `setpriv` (no groups, no capabilities, no_new_privs) before the sandbox
 * program starts. A host that is not root runs jobs as itself.
 */
export type SandboxKind = 'bwrap' | 'unshare';
export type SandboxPreference = SandboxKind | 'auto';

export interface SandboxDetection {
  kind: SandboxKind | undefined;
  /** One line for /api/health and for the refusal message. */
  description: string;
}

export interface SandboxPlan {
  /** Host directory mounted read-write at /workspace. */
  workspace: string;
  /** Host directory that holds the run's synthetic /etc files (passwd, group). */
  etcDir: string;
  /** Host directory (outside the sandbox) where the unshare fallback builds its root. */
  rootDir: string;
  volumes: { source: string; target: string }[];
  env: Record<string, string>;
  command: string;
}

/** Who jobs run as on the host: `dedicated` (the host is root and drops to LOCAL_JOB_UID
 * and LOCAL_JOB_GID) or `host-user` (the host's own unprivileged uid). */
export interface JobUser {
  mode: 'dedicated' | 'host-user';
  uid: number;
  gid: number;
}

export function jobUserFor(configured: { uid: number; gid: number }): JobUser {
  const uid = process.getuid?.() ?? 0;
  return uid === 0 ? { mode: 'dedicated', ...configured } : { mode: 'host-user', uid, gid: process.getgid?.() ?? uid };
}

/** setpriv's options that turn root into the dedicated job user with nothing left over. */
function dropTo(user: { uid: number; gid: number }): string[] {
  return [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--'];
}

export const WORKSPACE_MOUNT = '/workspace';
/** JupyterFlow jobs run in the notebook image, whose home is /home/jovyan; the thesis
 * workflows list it (`ls /home/jovyan/`) and mount datasets under it. An empty directory
 * keeps such a job from failing where no dataset is mounted there. */
const COMPAT_DIRS = ['/home/jovyan'];
export const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/ledgerflow/bin';

/** /etc entries the dynamic loader, sh and python read; nothing that names host users,
 * hosts or secrets. */
const ETC_FILES = ['/etc/ld.so.cache', '/etc/ld.so.conf', '/etc/ld.so.conf.d', '/etc/alternatives', '/etc/localtime', '/etc/nsswitch.conf'];
const TOP_DIRS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
const PROC_READ_ONLY = ['sys', 'sysrq-trigger', 'irq', 'bus'];

type Probe = readonly [command: string, args: string[]];

/** Whether a probe command exits 0. */
function works([command, args]: Probe): boolean {
  const r = spawnSync(command, args, { stdio: 'ignore', timeout: PROBE_TIMEOUT_MS, env: probeEnv() });
  return r.status === 0;
}

function worksAsync([command, args]: Probe): Promise<boolean> {
  return new Promise((done) => {
    const child = spawn(command, args, { stdio: 'ignore', timeout: PROBE_TIMEOUT_MS, env: probeEnv() });
    child.once('error', () => done(false));
    child.once('exit', (code) => done(code === 0));
  });
}

const PROBE_TIMEOUT_MS = 10_000;
const probeEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env['PATH'] ?? '/usr/bin:/bin' });

/** The probes and the choice, once for both ways of running them: each `yield` runs one
 * probe and gets back whether it worked. */
function* detection(preference: SandboxPreference, user: JobUser | undefined): Generator<Probe, SandboxDetection, boolean> {
  // Probed as the job user: a sandbox that only works as root does not count.
  const asUser = (args: string[]): Probe => (user?.mode === 'dedicated' ? ['setpriv', [...dropTo(user), ...args]] : [args[0]!, args.slice(1)]);
  const bwrap = asUser([
    'bwrap',
    '--unshare-all',
    '--die-with-parent',
    '--cap-drop',
    'ALL',
    '--ro-bind',
    '/',
    '/',
    '--dev',
    '/dev',
    '--proc',
    '/proc',
    '/bin/true',
  ]);
  const unshare = asUser(['unshare', '--user', '--map-root-user', '--mount', '--pid', '--fork', '--net', '--kill-child', '/bin/true']);
  if (preference !== 'unshare' && (yield bwrap)) {
    return { kind: 'bwrap', description: 'bubblewrap: read-only system, datasets read-only, no network, own pid namespace' };
  }
  if (preference !== 'bwrap' && (yield ['setpriv', ['--help']]) && (yield unshare)) {
    return { kind: 'unshare', description: 'util-linux unshare: read-only system, datasets read-only, no network, own pid namespace' };
  }
  const tried = preference === 'auto' ? 'neither bubblewrap (bwrap) nor util-linux unshare' : preference;
  return {
    kind: undefined,
    description: `${tried} can create a sandbox on this machine, so the local compute backend refuses to run jobs; install bubblewrap (Debian: apt-get install bubblewrap) or allow unprivileged user namespaces`,
  };
}

/** Tries the real thing once, at start: a tool that is installed but cannot create
 * namespaces here (no unprivileged user namespaces, seccomp) counts as missing. */
export function detectSandbox(preference: SandboxPreference = 'auto', user?: JobUser): SandboxDetection {
  const steps = detection(preference, user);
  let step = steps.next();
  while (step.done !== true) step = steps.next(works(step.value));
  return step.value;
}

/** detectSandbox without blocking the event loop: the probes run as child processes while
 * the host goes on starting. */
export async function probeSandbox(preference: SandboxPreference = 'auto', user?: JobUser): Promise<SandboxDetection> {
  const steps = detection(preference, user);
  let step = steps.next();
  while (step.done !== true) step = steps.next(await worksAsync(step.value));
  return step.value;
}

interface HostLayout {
  /** The host's /bin, /lib* entries as they are: symlinks into /usr are recreated, real
   * directories bound read-only. */
  topLevel: { path: string; symlinkTo?: string }[];
  /** JupyterFlow images have `python`; Debian has only `python3`. A one-entry directory
   * on PATH gives the thesis's `python uis.py` something to run. */
  python: string | undefined;
  etcFiles: { path: string; directory: boolean }[];
}

let layout: HostLayout | undefined;
/** Read once: the system directories do not change while the host runs. */
function hostLayout(): HostLayout {
  layout ??= {
    topLevel: TOP_DIRS.filter((p) => existsSync(p)).map((path) => (lstatSync(path).isSymbolicLink() ? { path, symlinkTo: readlinkSync(path) } : { path })),
    python:
      existsSync('/usr/bin/python') || existsSync('/usr/local/bin/python')
        ? undefined
        : ['/usr/local/bin/python3', '/usr/bin/python3'].find((p) => existsSync(p)),
    etcFiles: ETC_FILES.filter((p) => existsSync(p)).map((path) => ({ path, directory: lstatSync(path).isDirectory() })),
  };
  return layout;
}

export function bwrapArgs(plan: SandboxPlan): string[] {
  const args = ['--unshare-all', '--die-with-parent', '--new-session', '--cap-drop', 'ALL', '--clearenv', '--ro-bind', '/usr', '/usr'];
  const host = hostLayout();
  for (const entry of host.topLevel) {
    if (entry.symlinkTo !== undefined) args.push('--symlink', entry.symlinkTo, entry.path);
    else args.push('--ro-bind', entry.path, entry.path);
  }
  for (const file of host.etcFiles) args.push('--ro-bind', file.path, file.path);
  args.push('--ro-bind', `${plan.etcDir}/passwd`, '/etc/passwd', '--ro-bind', `${plan.etcDir}/group`, '/etc/group');
  if (host.python) args.push('--symlink', host.python, '/opt/ledgerflow/bin/python');
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  for (const dir of COMPAT_DIRS) args.push('--dir', dir);
  args.push('--bind', plan.workspace, WORKSPACE_MOUNT);
  for (const v of plan.volumes) args.push('--ro-bind', v.source, v.target);
  args.push('--remount-ro', '/', '--chdir', WORKSPACE_MOUNT);
  for (const [name, value] of Object.entries(plan.env)) args.push('--setenv', name, value);
  args.push('/bin/sh', '-c', plan.command);
  return args;
}

/** Single-quotes a word for /bin/sh. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The setup script the unshare fallback runs as root of a fresh user namespace: it
 * builds the same view as bwrapArgs on a tmpfs, pivots into it, detaches the host tree,
 * and execs the job with no capabilities and no way to gain any. */
export function unshareSetupScript(plan: SandboxPlan): string {
  const q = shellQuote;
  const R = plan.rootDir;
  const lines = ['set -e', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', `R=${q(R)}`, 'mount -t tmpfs -o mode=0755 tmpfs "$R"'];
  const bindRo = (source: string, target: string, file = false) => {
    lines.push(file ? `mkdir -p "$R"${q(target.replace(/\/[^/]*$/, '') || '/')} && : > "$R"${q(target)}` : `mkdir -p "$R"${q(target)}`);
    lines.push(`mount --rbind ${q(source)} "$R"${q(target)}`, `mount -o remount,bind,ro "$R"${q(target)}`);
  };
  const host = hostLayout();
  bindRo('/usr', '/usr');
  for (const entry of host.topLevel) {
    if (entry.symlinkTo !== undefined) lines.push(`ln -s ${q(entry.symlinkTo)} "$R"${q(entry.path)}`);
    else bindRo(entry.path, entry.path);
  }
  for (const file of host.etcFiles) bindRo(file.path, file.path, !file.directory);
  bindRo(`${plan.etcDir}/passwd`, '/etc/passwd', true);
  bindRo(`${plan.etcDir}/group`, '/etc/group', true);
  if (host.python) lines.push('mkdir -p "$R/opt/ledgerflow/bin"', `ln -s ${q(host.python)} "$R/opt/ledgerflow/bin/python"`);
  lines.push(...COMPAT_DIRS.map((dir) => `mkdir -p "$R"${q(dir)}`));
  lines.push('mkdir -p "$R/proc" "$R/dev" "$R/tmp" "$R/workspace"', 'mount -t proc proc "$R/proc"', 'mount -t tmpfs -o mode=1777 tmpfs "$R/tmp"');
  for (const dev of ['null', 'zero', 'full', 'random', 'urandom', 'tty']) {
    lines.push(`: > "$R/dev/${dev}"`, `mount --bind /dev/${dev} "$R/dev/${dev}"`);
  }
  lines.push('ln -s /proc/self/fd "$R/dev/fd"');
  lines.push(`mount --bind ${q(plan.workspace)} "$R/workspace"`, 'mount -o remount,bind,nosuid,nodev "$R/workspace"');
  // As bubblewrap does: the kernel knobs under a fresh /proc stay read-only.
  for (const knob of PROC_READ_ONLY)
    lines.push(`if [ -e "$R/proc/${knob}" ]; then mount --bind "$R/proc/${knob}" "$R/proc/${knob}" && mount -o remount,bind,ro "$R/proc/${knob}"; fi`);
  for (const v of plan.volumes) bindRo(v.source, v.target);
  lines.push('mkdir "$R/.old"', 'cd "$R"', 'pivot_root . .old', 'umount -l /.old', 'rmdir /.old', 'mount -o remount,bind,ro /', 'cd /workspace');
  const env = Object.entries(plan.env)
    .map(([k, v]) => q(`${k}=${v}`))
    .join(' ');
  lines.push(`exec setpriv --no-new-privs --inh-caps=-all --ambient-caps=-all --bounding-set=-all -- /usr/bin/env -i ${env} /bin/sh -c ${q(plan.command)}`);
  return lines.join('\n');
}

export function unshareArgs(plan: SandboxPlan): string[] {
  return [
    '--user',
    '--map-root-user',
    '--mount',
    '--pid',
    '--fork',
    '--kill-child',
    '--net',
    '--ipc',
    '--uts',
    '--',
    '/bin/sh',
    '-c',
    unshareSetupScript(plan),
  ];
}

export interface SandboxCommand {
  file: string;
  args: string[];
  /** NUL-separated options the program reads from file descriptor 3. bubblewrap takes its
   * options this way (`--args 3`) so that the sandbox's pid 1, whose command line every
   * job can read, shows neither host paths nor the job's environment. */
  fd3?: string;
}

/** Where the staged host directories appear to the job user (see stageScript). */
const STAGE = '/tmp';

/** What the stage of a dedicated job user shows it (see stageScript): the run's directory,
 * which holds the plan's workspace, etc dir and root dir, and one empty directory in it per
 * volume (in the plan's order) that the volume is bound onto. */
export interface StageLayout {
  runDir: string;
  volumePoints: string[];
}

/** A dedicated job user's stage, as data: who the job becomes, the run's directory shown
 * at /tmp, and each dataset bound onto its empty directory first (see stageScript). */
export interface StageSpec {
  uid: number;
  gid: number;
  runDir: string;
  binds: { source: string; point: string }[];
}

/** The sandbox program for the job user, and the stage that must come before it (none for a
 * host that is not root). The native supervisor makes the stage itself; withStage wraps it
 * in programs for the shell one. */
export interface StagedSandbox {
  stage: StageSpec | undefined;
  sandbox: SandboxCommand;
}

/** The sandbox that runs `plan` in a sandbox of `kind`, as `user`; a dedicated user needs the
 * run's `stage` layout, and the sandbox then sees the staged paths. */
export function stagedSandbox(kind: SandboxKind, plan: SandboxPlan, user?: JobUser, stage?: StageLayout): StagedSandbox {
  if (user?.mode !== 'dedicated') return { stage: undefined, sandbox: unstaged(kind, plan) };
  if (stage === undefined || stage.volumePoints.length !== plan.volumes.length) {
    throw new LedgerflowError('internal', 'a sandbox for the dedicated job user needs its stage layout');
  }
  const staged: SandboxPlan = {
    ...plan,
    workspace: stagedPath(stage, plan.workspace),
    etcDir: stagedPath(stage, plan.etcDir),
    rootDir: stagedPath(stage, plan.rootDir),
    volumes: plan.volumes.map((v, i) => ({ source: stagedPath(stage, stage.volumePoints[i]!), target: v.target })),
  };
  return {
    stage: { uid: user.uid, gid: user.gid, runDir: stage.runDir, binds: plan.volumes.map((v, i) => ({ source: v.source, point: stage.volumePoints[i]! })) },
    sandbox: unstaged(kind, staged),
  };
}

/** One command that makes the stage with util-linux programs and then runs the sandbox. */
export function withStage({ stage, sandbox }: StagedSandbox): SandboxCommand {
  if (stage === undefined) return sandbox;
  return {
    file: 'unshare',
    args: ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', stageScript(stage), 'ledgerflow-stage', sandbox.file, ...sandbox.args],
    ...(sandbox.fd3 !== undefined && { fd3: sandbox.fd3 }),
  };
}

/** The program and arguments that run `plan` in a sandbox of `kind`, as `user`, the stage
 * included (see stagedSandbox). */
export function sandboxCommand(kind: SandboxKind, plan: SandboxPlan, user?: JobUser, stage?: StageLayout): SandboxCommand {
  return withStage(stagedSandbox(kind, plan, user, stage));
}

/** Where a host path inside the run's directory appears once the stage has shown that
 * directory at STAGE. */
function stagedPath(stage: StageLayout, path: string): string {
  const rel = relative(stage.runDir, path);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new LedgerflowError('internal', `${path} is not inside the run directory`);
  return posix.join(STAGE, rel);
}

function unstaged(kind: SandboxKind, plan: SandboxPlan): SandboxCommand {
  if (kind === 'unshare') return { file: 'unshare', args: unshareArgs(plan) };
  const all = bwrapArgs(plan);
  const command = all.slice(-3); // /bin/sh -c <command>
  return { file: 'bwrap', args: ['--args', '3', ...command], fd3: `${all.slice(0, -3).join('\0')}\0` };
}

/**
 * Run by root in a private mount namespace: binds each dataset onto its empty directory in
 * the run's directory, shows that directory (and so the workspace, the synthetic /etc and the
 * datasets, none of which the job user can reach through the 0700 data dir) over /tmp of this
 * namespace only, then becomes the job user and execs the sandbox program given as arguments.
 * The host's own mounts are untouched. One `mount` a dataset and one for the run: each is a
 * process of its own (a fork and an exec, ~1 ms of CPU on a small VM), where building a
 * tmpfs of mount points took six whatever the datasets.
 */
export function stageScript(stage: StageSpec): string {
  const q = shellQuote;
  const lines = ['set -e', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin'];
  for (const bind of stage.binds) lines.push(`mount --bind ${q(bind.source)} ${q(bind.point)}`);
  // Recursive: the datasets bound just above come along.
  lines.push(`mount --rbind ${q(stage.runDir)} ${STAGE}`, `exec setpriv ${dropTo(stage).join(' ')} "$@"`);
  return lines.join('\n');
}
