import { spawn } from 'node:child_process';
import { errorMessage } from '../../../core/errors';
import { makeGroups, removeGroups } from './cgroups';
import { writeTextVisibleSync } from './jobDir';
import { spawnRequestSchema, type SpawnerReply } from './spawnerProtocol';

/**
 * The supervisor spawner's process (see spawner.ts): started by the host with an IPC
 * channel, it starts each requested job supervisor detached and says when it exited. A
 * fork copies the page tables of the process that forks, so from here, a small process,
 * it costs a fraction of what it costs from the host, whose main thread it blocks until the
 * child has exec'd. It holds nothing of its own: when the host goes (the channel closes,
 * kill -9 included), it exits, and the supervisors, in sessions of their own, run on.
 *
 * It also makes each job's cgroups before the supervisor starts and removes them once it
 * exited: calls that wait on the kernel's cgroup lock (see cgroups.ts), here rather than on
 * the host's main thread. The exit is reported once they are gone, so a host that hears of
 * it has nothing of the job left to remove; a host that never hears of it (this process
 * died) removes them itself.
 */
const send = (reply: SpawnerReply): void => {
  process.send?.(reply);
};

process.on('message', (message: unknown) => {
  const parsed = spawnRequestSchema.safeParse(message);
  if (!parsed.success) return;
  const { id, file, args, cwd, env, cgroups, pidFile } = parsed.data;
  let child;
  try {
    if (cgroups !== undefined) makeGroups(cgroups);
    child = spawn(file, args, { cwd, env, detached: true, stdio: 'ignore' });
  } catch (err) {
    if (cgroups !== undefined) void removeGroups(cgroups.dirs);
    send({ id, error: errorMessage(err) });
    return;
  }
  child.once('error', (err) => {
    if (cgroups !== undefined) void removeGroups(cgroups.dirs);
    send({ id, error: err.message });
  });
  child.once('spawn', () => {
    const pid = child.pid as number;
    try {
      if (pidFile !== undefined) writeTextVisibleSync(pidFile, `${pid}\n`);
    } catch (err) {
      // As a host that could not write it would: the supervisor runs on, the start failed.
      send({ id, error: errorMessage(err) });
      return;
    }
    send({ id, pid });
  });
  child.once('exit', () => void removeGroups(cgroups?.dirs ?? []).then((gone) => send({ id, exited: true, ...(!gone && { groupsLeft: true as const }) })));
});

process.once('disconnect', () => process.exit(0));
