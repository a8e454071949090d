import { randomBytes } from 'node:crypto';
import { closeSync, fsync, fsyncSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { promisify } from 'node:util';

/**
 * Crash-safe replacement of a small file: write a temp file in the same directory, fsync
 * it, rename over the target, fsync the directory. A crash leaves either the old or the new
 * content, never a torn file (at worst a stray `.<name>.<random>.tmp` beside it, which nothing reads).
 */
export async function writeFileAtomic(path: string, data: Buffer, mode = 0o600): Promise<void> {
  // Only the two flushes, which wait for the disk, leave the event loop; the other steps
  // (open, write, close, rename: page cache, tens of µs each for these small files) are
  // synchronous. Each async step waited for a turn of the loop, and on a busy host a job's
  // state.json took its eight turns (traced: 2.6-10 ms from its slot to its supervisor's
  // start, against 1.9-4.8 ms for the same launch in a process doing nothing else).
  const tmp = tempBeside(path);
  try {
    const fd = openSync(tmp, 'wx', mode);
    try {
      writeFileSync(fd, data);
      await fsyncFd(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dirname(path));
}

const fsyncFd = promisify(fsync);

async function fsyncDir(dir: string): Promise<void> {
  const fd = openSync(dir, 'r');
  try {
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Creates `path` with `data` only if it does not exist yet; returns the content that won.
 * link() fails if the target exists, so two processes starting at once agree on one key.
 * Synchronous, for files a start needs: each step of an async one waits for a turn of the
 * event loop, and a start loading modules gives it few (a key made while the app loaded took
 * ~120 ms to be ready; this costs its two fsyncs, and nothing when the file is there).
 */
export function createOnce(path: string, data: Buffer, mode = 0o600): Buffer {
  // Made whole or not at all, so what is there is the content that won: no fsync to find it.
  try {
    return readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const tmp = tempBeside(path);
  const fd = openSync(tmp, 'wx', mode);
  try {
    try {
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    linkSync(tmp, path);
    fsyncPathSync(dirname(path));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
  return readFileSync(path);
}

/** Flushes a file or directory to disk, synchronously. */
export function fsyncPathSync(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const tempBeside = (path: string): string => join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
