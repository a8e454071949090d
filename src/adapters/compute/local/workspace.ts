import { constants } from 'node:fs';
import { lstat, mkdir, open, readlink, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { LedgerflowError } from '../../../core/errors';
import { relativePathProblem } from '../../../core/relativePath';

/**
 * Reading and writing files in a run's workspace from the host. Jobs write there too, so
 * a job may have planted symlinks pointing anywhere on the host: every open refuses a
 * symlink as the last component (O_NOFOLLOW) and then checks, through /proc/self/fd, that
 * the file it actually opened lies inside the workspace.
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

export async function readWorkspaceFile(workspace: string, path: string): Promise<Buffer | undefined> {
  checkedRelative(path);
  let root: string;
  try {
    root = await realpath(workspace);
  } catch {
    return undefined;
  }
  let handle;
  try {
    handle = await open(join(root, path), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    if (code === 'ELOOP') throw new LedgerflowError('forbidden', `file ${JSON.stringify(path)} is a symbolic link`);
    throw err;
  }
  try {
    await assertInside(root, handle.fd, path);
    if (!(await handle.stat()).isFile()) return undefined;
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}
