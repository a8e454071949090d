import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, opendir, readlink, realpath, type FileHandle } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { LedgerflowError } from '../../../core/errors';
import { relativePathProblem } from '../../../core/relativePath';
import { MAX_OUTPUT_FILES, type FileDigest } from '../../../core/workflow/outputs';
import type { ByteSource } from '../../../ports/compute';

/**
 * Reading and writing files in a run's workspace from the host. Jobs write there too, so
 * a job may have planted symlinks pointing anywhere on the host, and FIFOs or devices: every
 * open refuses a symlink as the last component (O_NOFOLLOW) and then checks, through
 * /proc/self/fd, that the file it actually opened lies inside the workspace.
 */
function checkedRelative(path: string): void {
  const problem = relativePathProblem(path);
  if (problem) throw new LedgerflowError('validation_failed', `bad file path ${JSON.stringify(path)}: ${problem}`, { details: [{ path, message: problem }] });
}

async function assertInside(root: string, fd: number, path: string): Promise<void> {
  const actual = await readlink(`/proc/self/fd/${fd}`);
  if (!actual.startsWith(root + sep)) throw new LedgerflowError('forbidden', `file ${JSON.stringify(path)} leaves the workspace`);
}

/** Creates the parent directories of `path` under `root`, refusing any that is a symlink. */
async function makeParents(root: string, path: string): Promise<void> {
  let dir = root;
  for (const segment of path.split('/').slice(0, -1)) {
    dir = join(dir, segment);
    await mkdir(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    if (!(await lstat(dir)).isDirectory()) throw new LedgerflowError('forbidden', `file ${JSON.stringify(path)} leaves the workspace`);
  }
}

export async function writeWorkspaceFiles(workspace: string, files: Record<string, string>): Promise<void> {
  for (const path of Object.keys(files)) checkedRelative(path);
  await mkdir(workspace, { recursive: true, mode: 0o755 });
  const root = await realpath(workspace);
  for (const [path, content] of Object.entries(files)) {
    await makeParents(root, path);
    // No O_TRUNC: nothing is truncated before the opened file is known to be inside.
    const handle = await open(join(root, path), constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW, 0o644).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ELOOP') throw new LedgerflowError('forbidden', `file ${JSON.stringify(path)} is a symbolic link`);
      throw err;
    });
    try {
      await assertInside(root, handle.fd, path);
      await handle.truncate(0);
      await handle.writeFile(content, 'utf8');
    } finally {
      await handle.close();
    }
  }
}

/**
 * A regular file of the workspace, open for streaming; undefined for anything else. The
 * open neither follows a final symlink nor blocks (O_NONBLOCK: a FIFO a job left would
 * otherwise wait for a writer and hold a thread of the host's pool); fstat then decides.
 * A path that leaves the workspace answers like a missing one, so no host path is learnt.
 */
export async function openWorkspaceFile(workspace: string, path: string): Promise<ByteSource | undefined> {
  checkedRelative(path);
  const root = await realpath(workspace).catch(() => undefined);
  return root === undefined ? undefined : openInside(root, path);
}

/** The open behind openWorkspaceFile, under a resolved root, for any name a job chose. */
async function openInside(root: string, path: string): Promise<ByteSource | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(join(root, path), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if (NOT_A_FILE.has((err as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw err;
  }
  try {
    const inside = (await readlink(`/proc/self/fd/${handle.fd}`)).startsWith(root + sep);
    const stats = await handle.stat();
    if (inside && stats.isFile()) return fileSource(handle, stats.size);
  } catch (err) {
    await handle.close();
    throw err;
  }
  await handle.close();
  return undefined;
}

/** Errors of an open that mean "no such regular file here". */
const NOT_A_FILE = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'ELOOP', 'ENXIO', 'EACCES']);

/** An open file as a ByteSource; the stream closes the handle when it ends or fails. */
export function fileSource(handle: FileHandle, size: number): ByteSource {
  return {
    size,
    read: (start, end) => handle.createReadStream({ start, end, autoClose: true }),
    close: () => handle.close(),
  };
}

export async function readWorkspaceFile(workspace: string, path: string): Promise<Buffer | undefined> {
  const source = await openWorkspaceFile(workspace, path);
  return source === undefined ? undefined : readAll(source);
}

/** All of a ByteSource in memory, for callers of the buffer API (small files only). */
export async function readAll(source: ByteSource): Promise<Buffer> {
  if (source.size === 0) {
    await source.close();
    return Buffer.alloc(0);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of source.read(0, source.size - 1)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Every regular file of the workspace with its size and sha256, for the run's output
 * manifest. A job may have left anything there: links are listed by the directory walk as
 * links and neither followed nor hashed (a link to a directory is not entered), FIFOs,
 * sockets and devices are skipped, and each file is hashed through the descriptor that
 * openWorkspaceFile opened (no final link followed, no blocking, checked inside), so a
 * file swapped for a link after the listing is not read either. Hashing streams: a huge
 * file costs time, not memory.
 */
export async function workspaceDigests(workspace: string, limit = MAX_OUTPUT_FILES): Promise<FileDigest[]> {
  const root = await realpath(workspace).catch(() => undefined);
  if (root === undefined) return [];
  const paths: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    const dir = await opendir(relative === '' ? root : join(root, relative)).catch(() => undefined);
    if (dir === undefined) return;
    for await (const entry of dir) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) {
        if (paths.length === limit)
          throw new LedgerflowError('payload_too_large', `the workspace holds more than ${limit} files; a run's outputs may list at most ${limit}`);
        paths.push(path);
      }
    }
  };
  await walk('');
  const digests: FileDigest[] = [];
  for (const path of paths.sort()) {
    // A name the API's path rule refuses (a control character, say) is still an output.
    const source = await openInside(root, path);
    if (source === undefined) continue;
    const hash = createHash('sha256');
    if (source.size === 0) await source.close();
    else for await (const chunk of source.read(0, source.size - 1)) hash.update(chunk as Buffer);
    digests.push({ path, size: source.size, sha256: hash.digest('hex') });
  }
  return digests;
}
