import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A small tmpfs for disk-full tests. Mounting needs root (CI runs as root); where it is not
 * allowed, `skip` holds the reason for the test's skip message.
 */
export interface SmallDisk {
  readonly dir: string;
  /** Set when the filesystem could not be mounted. */
  readonly skip: string | undefined;
  remove(): void;
}

export function mountSmallDisk(sizeMiB: number): SmallDisk {
  const base = mkdtempSync(join(tmpdir(), 'lf-fault-disk-'));
  const dir = join(base, 'disk');
  mkdirSync(dir);
  let skip: string | undefined;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    const why = String((err as { stderr?: Buffer }).stderr ?? err).trim();
    skip = `mounting a ${sizeMiB} MiB tmpfs is not allowed here (${why}); run as root to test a full disk`;
  }
  return {
    dir,
    skip,
    remove() {
      if (skip === undefined) execFileSync('umount', ['-l', dir]);
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/** Free bytes for an unprivileged writer on the filesystem of `dir`. */
export function freeBytes(dir: string): number {
  const out = execFileSync('df', ['-B1', '--output=avail', dir], { encoding: 'utf8' });
  return Number(out.trim().split('\n').pop());
}

/** Writes `file` until the filesystem refuses (ENOSPC): the disk is then full. */
export function fillDisk(file: string): void {
  const fd = openSync(file, 'w');
  try {
    for (const size of [1 << 20, 1 << 12, 1]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}
