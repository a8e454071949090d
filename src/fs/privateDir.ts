import { chmodSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The data dir holds the key store, the durable history and every run's workspace: no
 * other local user may enter it. An existing dir (or one of its subdirectories) left 0755
 * by an older version or an operator is tightened at every start, so nothing a job left in
 * a workspace is reachable from outside. Symlinks are left alone (chmod would follow them).
 */
export function makePrivate(dataDir: string): void {
  chmodSync(dataDir, 0o700);
  for (const entry of readdirSync(dataDir)) {
    const path = join(dataDir, entry);
    if (lstatSync(path).isDirectory()) chmodSync(path, 0o700);
  }
}
