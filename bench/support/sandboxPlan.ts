import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SANDBOX_PATH, type SandboxPlan } from '../../src/adapters/compute/local/sandbox';

/** A sandbox plan for `true` in a scratch tree under `root` (workspace, synthetic /etc, the
 * unshare fallback's root), as the local backend builds for a job. */
export function trivialPlan(root: string): SandboxPlan {
  const workspace = join(root, 'workspace');
  const etcDir = join(root, 'etc');
  mkdirSync(workspace, { recursive: true });
  mkdirSync(etcDir, { recursive: true });
  mkdirSync(join(root, 'root'), { recursive: true });
  writeFileSync(join(etcDir, 'passwd'), 'root:x:0:0:root:/workspace:/bin/sh\n');
  writeFileSync(join(etcDir, 'group'), 'root:x:0:\n');
  return { workspace, etcDir, rootDir: join(root, 'root'), volumes: [], env: { PATH: SANDBOX_PATH, HOME: '/workspace' }, command: 'true' };
}

/** Runs `file args` with nothing attached (fd 3 = `fd3` when given); resolves on exit 0. */
export function runQuiet(file: string, args: readonly string[], fd3?: number): Promise<void> {
  return new Promise((ok, fail) => {
    const stdio: ('ignore' | number)[] = fd3 === undefined ? ['ignore', 'ignore', 'ignore'] : ['ignore', 'ignore', 'ignore', fd3];
    const child = spawn(file, args, { stdio, env: { PATH: '/usr/bin:/bin' } });
    child.once('error', fail);
    child.once('exit', (code) => (code === 0 ? ok() : fail(new Error(`${file} exited with ${code}`))));
  });
}
