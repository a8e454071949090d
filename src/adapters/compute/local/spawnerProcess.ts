import { spawn } from 'node:child_process';
import { spawnRequestSchema, type SpawnerReply } from './spawnerProtocol';

/**
 * The supervisor spawner's process (see spawner.ts): started by the host with an IPC
 * channel, it starts each requested job supervisor detached and says when it exited. A
 * fork copies the page tables of the process that forks, so from here, a small process,
 * it costs a fraction of what it costs from the host, whose main thread it blocks until the
 * child has exec'd. It holds nothing of its own: when the host goes (the channel closes,
 * kill -9 included), it exits, and the supervisors, in sessions of their own, run on.
 */
const send = (reply: SpawnerReply): void => {
  process.send?.(reply);
};

process.on('message', (message: unknown) => {
  const parsed = spawnRequestSchema.safeParse(message);
  if (!parsed.success) return;
  const { id, file, args, cwd, env } = parsed.data;
  let child;
  try {
    child = spawn(file, args, { cwd, env, detached: true, stdio: 'ignore' });
  } catch (err) {
    send({ id, error: err instanceof Error ? err.message : String(err) });
    return;
  }
  child.once('error', (err) => send({ id, error: err.message }));
  child.once('spawn', () => send({ id, pid: child.pid as number }));
  child.once('exit', () => send({ id, exited: true }));
});

process.once('disconnect', () => process.exit(0));
