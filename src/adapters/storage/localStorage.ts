import { constants, promises as fs } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';
import { DATASET_ID } from '../../core/names';
import { LedgerflowError, validationError } from '../../core/errors';
import { fileMapProblems } from '../../core/relativePath';
import type { DatasetLocation, DatasetSource, DatasetStorage, StoredDataset, TreeEntry } from '../../ports/datasetStorage';

/**
 * Datasets as local directories: uploads go to `<dataDir>/datasets/<id>/`; an owner may
 * instead adopt an existing directory under one of the allowed roots (LOCAL_DATASET_ROOTS).
 * Every write walks the path one segment at a time refusing symlinks, and creates files
 * with O_EXCL|O_NOFOLLOW, so nothing is written outside the dataset root; listing skips
 * symlinks whose target resolves outside it.
 */
export interface LocalStorageOptions {
  dataDir: string;
  /** Absolute directories under which owners may adopt existing data; empty disables adoption. */
  adoptRoots: readonly string[];
}


export class LocalDatasetStorage implements DatasetStorage {
  readonly kind = 'local' as const;
  private readonly datasetsDir: string;
  constructor(private readonly options: LocalStorageOptions) {
    this.datasetsDir = join(options.dataDir, 'datasets');
  }

  async create(datasetId: string, files: Record<string, string>): Promise<StoredDataset> {
    assertDatasetId(datasetId);
    assertFiles(files);
    await fs.mkdir(this.datasetsDir, { recursive: true, mode: 0o700 });
    const root = join(await fs.realpath(this.datasetsDir), datasetId);
    await fs.mkdir(root, { mode: 0o750 });
    try {
      await writeFiles(root, files);
    } catch (err) {
      await fs.rm(root, { recursive: true, force: true });
      throw err;
    }
    return { location: { kind: 'local', path: root, adopted: false } };
  }

  async adopt(datasetId: string, source: DatasetSource, files: Record<string, string>): Promise<StoredDataset> {
    assertDatasetId(datasetId);
    if (source.kind !== 'local') throw new LedgerflowError('bad_request', `local storage cannot adopt a ${source.kind} source`);
    assertFiles(files);
    const at = 'source.path';
    if (!isAbsolute(source.path) || source.path.includes('\0')) throw validationError('invalid source', [{ path: at, message: 'must be an absolute path' }]);
    let real: string;
    try {
      real = await fs.realpath(source.path);
    } catch {
      throw validationError('invalid source', [{ path: at, message: 'does not exist' }]);
    }
    if (!(await fs.stat(real)).isDirectory()) throw validationError('invalid source', [{ path: at, message: 'is not a directory' }]);
    const roots = await Promise.all(this.options.adoptRoots.map((r) => fs.realpath(r).catch(() => undefined)));
    if (!roots.some((r) => r !== undefined && isInside(r, real))) {
      throw validationError('invalid source', [{ path: at, message: 'is not under an allowed root (setting LOCAL_DATASET_ROOTS)' }]);
    }
    await writeFiles(real, files);
    return { location: { kind: 'local', path: real, adopted: true } };
  }

  async tree(location: DatasetLocation): Promise<TreeEntry[]> {
    const root = await fs.realpath(localPath(location));
    const entries: TreeEntry[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const dirent of await fs.readdir(dir, { withFileTypes: true })) {
        const full = join(dir, dirent.name);
        const path = relative(root, full).split(sep).join('/');
        if (dirent.isSymbolicLink()) {
          // Shown only when the target stays inside the dataset; never followed further.
          const target = await fs.realpath(full).catch(() => undefined);
          if (target === undefined || !isInside(root, target)) continue;
          const st = await fs.stat(target);
          entries.push(st.isDirectory() ? { path, type: 'directory' } : { path, type: 'file', size: st.size });
        } else if (dirent.isDirectory()) {
          entries.push({ path, type: 'directory' });
          await walk(full);
        } else if (dirent.isFile()) {
          entries.push({ path, type: 'file', size: (await fs.lstat(full)).size });
        }
      }
    };
    await walk(root);
    return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async remove(location: DatasetLocation): Promise<void> {
    const path = localPath(location);
    if (location.adopted !== false) return;
    // Only ever a directory this adapter created under <dataDir>/datasets.
    const parent = await fs.realpath(this.datasetsDir).catch(() => undefined);
    if (parent === undefined || !isInside(parent, path) || path === parent) {
      throw new LedgerflowError('internal', 'refusing to remove a dataset directory outside the data dir');
    }
    await fs.rm(path, { recursive: true, force: true });
  }
}

function localPath(location: DatasetLocation): string {
  if (location.kind !== 'local') throw new LedgerflowError('internal', `local storage got a ${location.kind} location`);
  return location.path;
}

function assertDatasetId(id: string): void {
  if (!DATASET_ID.test(id)) throw new LedgerflowError('bad_request', 'dataset id must be 32 hex characters');
}

function assertFiles(files: Record<string, string>): void {
  const problems = fileMapProblems(files);
  if (problems.length > 0) throw validationError('invalid file paths', problems);
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Writes each file under `root`, creating directories segment by segment and refusing to
 * pass through a symlink or to replace anything that exists. */
async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const segments = path.split('/');
    let dir = root;
    for (const segment of segments.slice(0, -1)) {
      dir = join(dir, segment);
      const st = await fs.lstat(dir).catch(() => undefined);
      if (st === undefined) await fs.mkdir(dir, { mode: 0o750 });
      else if (!st.isDirectory()) {
        throw validationError('invalid file paths', [{ path: `files[${JSON.stringify(path)}]`, message: 'passes through a symlink or a file' }]);
      }
    }
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(join(dir, segments[segments.length - 1]!), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o640);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' || (err as NodeJS.ErrnoException).code === 'ELOOP') {
        throw validationError('invalid file paths', [{ path: `files[${JSON.stringify(path)}]`, message: 'already exists' }]);
      }
      throw err;
    }
    try {
      await handle.writeFile(content, 'utf8');
    } finally {
      await handle.close();
    }
  }
}
