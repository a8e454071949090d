import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HostConfigError } from './config/hostConfigError';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One host per data dir: its queues, timers and durable state assume a single owner
 * (for instance, leases left by a dead host are reclaimed at start). */
export function lockDataDir(dataDir: string): () => void {
  // Private to the user: the data dir holds keys, ledger state and job data.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, 'host.lock');
  for (;;) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && alive(owner)) {
        throw new HostConfigError(`the data dir ${dataDir} is in use by another host (pid ${owner}); set LEDGERFLOW_DATA_DIR`);
      }
      rmSync(file, { force: true });
    }
  }
  return () => rmSync(file, { force: true });
}
