import { createHash } from 'node:crypto';
import { createReadStream, promises as fs, type Stats } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import Database from 'better-sqlite3';
import { BACKUP_MANIFEST, type BackupManifest } from '../core/backup';
import { writeFileAtomic } from '../fs/atomicFile';

/**
 * A consistent copy of a running host's data dir (`ledgerflow admin backup`). The caller
 * (host.ts) has paused new work and let the invocations in flight finish, so every store is
 * as a crash at that moment would leave it, which every part already recovers from: each
 * SQLite database is copied with `VACUUM INTO` (one read transaction: a consistent,
 * compacted copy), every other file as it is, links recreated as links (never followed:
 * a job's workspace is hostile), owners and modes kept. The WALs, shared-memory files and
 * the host lock are not copied. Checksums and the manifest are written after work resumed;
 * the manifest comes last, so a directory without one is not a finished backup.
 */

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
/** Never copied: process locks (the host's, the ledger's), and SQLite's side files (their
 * content is in the copy). */
const SKIP = (name: string) => name.startsWith('host.lock') || name.endsWith('.lock') || /-(wal|shm|journal)$/.test(name);

export interface SnapshotResult {
  databases: string[];
  files: number;
}

/** Refuses a destination that is inside the data dir (or holds it), or is not empty. */
export async function checkDestination(dataDir: string, dest: string): Promise<string> {
  if (!isAbsolute(dest)) throw new BackupError('the backup directory must be an absolute path');
  const from = resolve(dataDir);
  const to = resolve(dest);
  if (to === from || to.startsWith(from + sep) || from.startsWith(to + sep)) throw new BackupError('the backup directory must be outside the data dir');
  const entries = await fs.readdir(to).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  if (entries.length > 0) throw new BackupError(`${to} is not empty`);
  return to;
}

export class BackupError extends Error {}

/** Copies `dataDir` to `dest` (which checkDestination accepted). Runs while work is paused. */
export async function snapshot(dataDir: string, dest: string): Promise<SnapshotResult> {
  const result: SnapshotResult = { databases: [], files: 0 };
  const asRoot = process.getuid?.() === 0;
  async function copyDir(from: string, to: string, st: Stats): Promise<void> {
    await fs.mkdir(to, { recursive: true, mode: 0o700 });
    for (const entry of await fs.readdir(from, { withFileTypes: true })) {
      if (SKIP(entry.name)) continue;
      const src = join(from, entry.name);
      const dst = join(to, entry.name);
      const est = await fs.lstat(src).catch(() => undefined);
      if (est === undefined) continue; // removed meanwhile (a job's scratch)
      if (est.isDirectory()) await copyDir(src, dst, est);
      else if (est.isSymbolicLink()) await fs.symlink(await fs.readlink(src), dst);
      else if (est.isFile()) {
        if (await isSqlite(src)) {
          vacuumInto(src, dst);
          result.databases.push(relative(dataDir, src));
        } else await fs.copyFile(src, dst);
      } else continue; // FIFOs, sockets, devices: nothing a restore needs
      result.files++;
      await keepOwnerAndMode(dst, est, asRoot);
    }
    await keepOwnerAndMode(to, st, asRoot);
  }
  await copyDir(dataDir, dest, await fs.stat(dataDir));
  return result;
}

async function keepOwnerAndMode(path: string, st: Stats, asRoot: boolean): Promise<void> {
  // A restored run's next job runs as LOCAL_JOB_UID and must find its workspace its own.
  if (asRoot) await fs.lchown(path, st.uid, st.gid);
  if (!st.isSymbolicLink()) await fs.chmod(path, st.mode & 0o7777);
}

async function isSqlite(file: string): Promise<boolean> {
  const fh = await fs.open(file, 'r');
  try {
    const head = Buffer.alloc(SQLITE_MAGIC.length);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return bytesRead === head.length && head.equals(SQLITE_MAGIC);
  } finally {
    await fh.close();
  }
}

function vacuumInto(src: string, dst: string): void {
  const db = new Database(src, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 10000');
    db.prepare('VACUUM INTO ?').run(dst);
  } finally {
    db.close();
  }
}

/** The ledger's height in the copy (blocks 0..height-1), when there is an embedded ledger. */
function ledgerHeight(dest: string): number | undefined {
  const file = join(dest, 'ledger', 'ledger.sqlite');
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare('SELECT MAX(number) AS top FROM blocks').get() as { top: number | null };
      return row.top === null ? 0 : row.top + 1;
    } finally {
      db.close();
    }
  } catch {
    return undefined;
  }
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Checksums every file of the copy and writes the manifest (last). */
export async function writeManifest(dest: string, info: Omit<BackupManifest, 'format' | 'files' | 'ledgerHeight' | 'sqlite'>): Promise<BackupManifest> {
  const files: BackupManifest['files'] = [];
  async function walk(dir: string): Promise<void> {
    for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) files.push({ path: relative(dest, path), size: (await fs.stat(path)).size, sha256: await sha256(path) });
    }
  }
  await walk(dest);
  files.sort((a, b) => (a.path < b.path ? -1 : 1));
  const sqlite = new Database(':memory:');
  const version = (sqlite.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  sqlite.close();
  const height = ledgerHeight(dest);
  const manifest: BackupManifest = { format: 'ledgerflow-backup/1', ...info, sqlite: version, ...(height !== undefined && { ledgerHeight: height }), files };
  await writeFileAtomic(join(dest, BACKUP_MANIFEST), Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
  return manifest;
}
