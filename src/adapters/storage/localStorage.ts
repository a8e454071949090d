import { createHash } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { z } from 'zod';
import { contentHash, type ContentFile } from '../../core/datasets/contentHash';
import { DATASET_ID_RULE, isDatasetId } from '../../core/names';
import { conflict, LedgerflowError, validationError } from '../../core/errors';
import { fileMapProblems } from '../../core/relativePath';
import { writeFileAtomic } from '../../fs/atomicFile';
import type { Logger } from '../../observability/logger';
import type { DatasetLocation, DatasetSource, DatasetStorage, DatasetVersions, StoredDataset, TreeEntry, VersionChange } from '../../ports/datasetStorage';

/**
 * Datasets as local directories: uploads go to `<dataDir>/datasets/<id>/`; an owner may
 * instead adopt an existing directory under one of the allowed roots (LOCAL_DATASET_ROOTS).
 * Every write walks the path one segment at a time refusing symlinks, and creates files
 * with O_EXCL|O_NOFOLLOW, so nothing is written outside the dataset root; listing skips
 * symlinks whose target resolves outside it.
 *
 * Versions of an uploaded dataset are versioned directories: version 1 is `<id>/`, version n
 * `<id>@v<n>/` beside it (`@` is never in a dataset id), each a whole copy written once; a
 * run mounts the directory of the version its launch recorded. Adopted directories are the
 * owner's own and take no versions through the platform.
 */
export interface LocalStorageOptions {
  dataDir: string;
  /** Per organization, the absolute directories under which its owners may adopt existing
   * data (LOCAL_DATASET_ROOTS); an organization not listed adopts nothing. */
  adoptRoots: Readonly<Record<string, readonly string[]>>;
  logger?: Logger;
}

/** The one answer to every refused adoption (see adoptable). */
export const ADOPT_REFUSED =
  "is not a directory your organization may adopt: it must exist under one of your organization's LOCAL_DATASET_ROOTS, outside the data dir, and not overlap another dataset";

export class LocalDatasetStorage implements DatasetStorage {
  readonly kind = 'local' as const;
  private readonly datasetsDir: string;
  private readonly registry: AdoptionRegistry;
  private adopting: Promise<unknown> = Promise.resolve();
  constructor(private readonly options: LocalStorageOptions) {
    this.datasetsDir = join(options.dataDir, 'datasets');
    this.registry = new AdoptionRegistry(join(this.datasetsDir, 'adopted.json'));
  }

  async create(datasetId: string, files: Record<string, string>): Promise<StoredDataset> {
    assertDatasetId(datasetId);
    assertFiles(files);
    await fs.mkdir(this.datasetsDir, { recursive: true, mode: 0o700 });
    const root = join(await fs.realpath(this.datasetsDir), datasetId);
    // World-readable inside the 0700 data dir: only the job user, through its sandbox's
    // staged mount, gets to read them.
    await fs.mkdir(root, { mode: 0o755 });
    try {
      await writeFiles(root, files);
    } catch (err) {
      await fs.rm(root, { recursive: true, force: true });
      throw err;
    }
    return { location: { kind: 'local', path: root, adopted: false }, contentHash: await hashTree(root) };
  }

  readonly versions: DatasetVersions = {
    supports: (location) => location.kind === 'local' && location.adopted === false,
    at: (location, version) => {
      const root = localPath(location);
      return version <= 1 || location.adopted !== false ? location : { ...location, path: versionDir(root, version) };
    },
    add: (location, change) => this.addVersion(location, change),
    discard: async (location, version) => {
      if (version > 1 && location.adopted === false) await fs.rm(versionDir(localPath(location), version), { recursive: true, force: true });
    },
  };

  private async addVersion(location: DatasetLocation, change: VersionChange): Promise<{ contentHash: string }> {
    if (!this.versions.supports(location)) throw new LedgerflowError('bad_request', "this dataset adopts its owner's directory: change the files there");
    assertFiles(change.files);
    const from = this.versions.at(location, change.from);
    const to = versionDir(localPath(location), change.to);
    // The directory's creation is the claim on the version number: a second push racing for
    // it finds it taken.
    try {
      await fs.mkdir(to, { mode: 0o755 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw conflict(`version ${change.to} is being written by another push; try again`);
      throw err;
    }
    try {
      if (!change.replace) {
        // `to` was just made, empty: errorOnExist would refuse `to` itself on Node 22
        // (ERR_FS_CP_EEXIST), and with force false nothing in it is overwritten anyway.
        await fs.cp(localPath(from), to, {
          recursive: true,
          errorOnExist: false,
          force: false,
          verbatimSymlinks: true,
          filter: async (src) => !(await isReplaced(localPath(from), src, change.files)),
        });
      }
      await writeFiles(to, change.files);
      return { contentHash: await hashTree(to) };
    } catch (err) {
      await fs.rm(to, { recursive: true, force: true });
      throw err;
    }
  }

  async adopt(datasetId: string, source: DatasetSource, files: Record<string, string>, ownerOrg: string): Promise<StoredDataset> {
    assertDatasetId(datasetId);
    if (source.kind !== 'local') throw new LedgerflowError('bad_request', `local storage cannot adopt a ${source.kind} source`);
    assertFiles(files);
    return this.serial(() => this.adoptChecked(datasetId, source.path, files, ownerOrg));
  }

  /** One registry change at a time: an adoption's check and its registration must not interleave with another's. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const turn = this.adopting.then(work);
    this.adopting = turn.catch(() => undefined);
    return turn;
  }

  private async adoptChecked(datasetId: string, path: string, files: Record<string, string>, ownerOrg: string): Promise<StoredDataset> {
    const real = await this.adoptable(path, ownerOrg);
    await writeFiles(real, files);
    await this.registry.add({ path: real, datasetId });
    return { location: { kind: 'local', path: real, adopted: true } };
  }

  /**
   * The real path of a directory `ownerOrg` may adopt. Every refusal is the same answer, so
   * that an owner cannot probe which host paths exist, which belong to the data dir, or
   * which another organization has adopted; the reason goes to the log only.
   */
  private async adoptable(path: string, ownerOrg: string): Promise<string> {
    const refuse = (reason: string): never => {
      this.options.logger?.info({ org: ownerOrg, reason }, 'adoption refused');
      throw validationError('invalid source', [{ path: 'source.path', message: ADOPT_REFUSED }]);
    };
    if (!isAbsolute(path) || path.includes('\0')) refuse('not an absolute path');
    const real = await fs.realpath(path).catch(() => undefined);
    if (real === undefined) return refuse('does not exist');
    const roots = await Promise.all((this.options.adoptRoots[ownerOrg] ?? []).map((r) => fs.realpath(r).catch(() => undefined)));
    if (!roots.some((r) => r !== undefined && isInside(r, real))) refuse("not under the organization's roots");
    if (!(await fs.stat(real)).isDirectory()) refuse('not a directory');
    const dataDir = await fs.realpath(this.options.dataDir).catch(() => resolve(this.options.dataDir));
    if (isInside(dataDir, real) || isInside(real, dataDir)) refuse('is, contains or lies inside the data dir');
    const taken = (await this.registry.entries()).find((e) => isInside(e.path, real) || isInside(real, e.path));
    if (taken !== undefined) refuse(`overlaps dataset ${taken.datasetId}`);
    return real;
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
    if (location.adopted !== false) {
      await this.serial(() => this.registry.remove(path));
      return;
    }
    // Only ever a directory this adapter created under <dataDir>/datasets.
    const parent = await fs.realpath(this.datasetsDir).catch(() => undefined);
    if (parent === undefined || !isInside(parent, path) || path === parent) {
      throw new LedgerflowError('internal', 'refusing to remove a dataset directory outside the data dir');
    }
    const versions = (await fs.readdir(parent)).filter((name) => name.startsWith(`${basename(path)}@v`));
    for (const name of versions) await fs.rm(join(parent, name), { recursive: true, force: true });
    await fs.rm(path, { recursive: true, force: true });
  }
}

function localPath(location: DatasetLocation): string {
  if (location.kind !== 'local') throw new LedgerflowError('internal', `local storage got a ${location.kind} location`);
  return location.path;
}

const versionDir = (root: string, version: number): string => (version <= 1 ? root : `${root}@v${version}`);

/** Whether `src` (under `root`) is a file the change replaces, or a file in the way of a
 * directory the change needs (pushing `a/b` over a file `a`). */
async function isReplaced(root: string, src: string, files: Record<string, string>): Promise<boolean> {
  const path = relative(root, src).split(sep).join('/');
  if (path === '') return false;
  if (Object.hasOwn(files, path)) return true;
  return Object.keys(files).some((p) => p.startsWith(`${path}/`)) && !(await fs.lstat(src)).isDirectory();
}

/** The content hash of a version directory: every regular file, symlinks not followed. */
async function hashTree(root: string): Promise<string> {
  const files: ContentFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const dirent of await fs.readdir(dir, { withFileTypes: true })) {
      const full = join(dir, dirent.name);
      if (dirent.isDirectory()) await walk(full);
      else if (dirent.isFile()) {
        files.push({
          path: relative(root, full).split(sep).join('/'),
          sha256: createHash('sha256')
            .update(await fs.readFile(full))
            .digest('hex'),
        });
      }
    }
  };
  await walk(root);
  return contentHash(files);
}

function assertDatasetId(id: string): void {
  if (!isDatasetId(id)) throw new LedgerflowError('bad_request', `dataset id ${DATASET_ID_RULE}`);
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
      if (st === undefined) await fs.mkdir(dir, { mode: 0o755 });
      else if (!st.isDirectory()) {
        throw validationError('invalid file paths', [{ path: `files[${JSON.stringify(path)}]`, message: 'passes through a symlink or a file' }]);
      }
    }
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(
        join(dir, segments[segments.length - 1]!),
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        0o644,
      );
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

const registrySchema = z.array(z.object({ path: z.string(), datasetId: z.string() }));
type Adoption = z.infer<typeof registrySchema>[number];

/**
 * Which directories datasets have adopted, so that no two datasets (of one organization or
 * two) hold overlapping directories. A small JSON file in the data dir, replaced atomically.
 */
class AdoptionRegistry {
  constructor(private readonly file: string) {}

  async entries(): Promise<Adoption[]> {
    const text = await fs.readFile(this.file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '[]';
      throw err;
    });
    return registrySchema.parse(JSON.parse(text));
  }

  async add(entry: Adoption): Promise<void> {
    await this.write([...(await this.entries()), entry]);
  }

  async remove(path: string): Promise<void> {
    const entries = await this.entries();
    if (entries.some((e) => e.path === path)) await this.write(entries.filter((e) => e.path !== path));
  }

  private async write(entries: Adoption[]): Promise<void> {
    await fs.mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.file, Buffer.from(`${JSON.stringify(entries)}\n`));
  }
}
