import { randomBytes } from 'node:crypto';
import { closeSync, fsync, fsyncSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { dirname, join, basename } from 'node:path';

/**
 * Crash-safe replacement of a small file: write a temp file in the same directory, fsync
 * it, rename over the target, fsync the directory. A crash leaves either the old or the new
 * content, never a torn file (at worst a stray `.<name>.<random>.tmp` beside it, which nothing reads).
 */
export async function writeFileAtomic(path: string, data: Buffer, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  const tmp = await writeSyncedTemp(path, data, mode);
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dir);
}

/*
 * Only the fsyncs, which wait on the disk, go to libuv's threads: the rest (open, write into
 * the page cache, close, rename) take microseconds, where each round trip through the
 * promise API costs more CPU than the call itself (8 round trips a replacement before, 2 now).
 */
const fsyncFd = promisify(fsync);

export async function fsyncDir(dir: string): Promise<void> {
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

/** A new temp file beside `path` holding `data`, flushed to disk; returns its path. */
async function writeSyncedTemp(path: string, data: Buffer, mode: number): Promise<string> {
  const tmp = tempBeside(path);
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeFileSync(fd, data);
    await fsyncFd(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}
