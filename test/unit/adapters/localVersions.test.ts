import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalDatasetStorage } from '../../../src/adapters/storage/localStorage';
import { contentHash } from '../../../src/core/datasets/contentHash';
import { LedgerflowError } from '../../../src/core/errors';
import type { DatasetLocation } from '../../../src/ports/datasetStorage';

/** Versioned directories of local storage: a new version is a whole directory beside the
 * old one, which stays as it was for the runs reading it. */
let dataDir: string;
let storage: LocalDatasetStorage;
before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'lf-versions-'));
  storage = new LocalDatasetStorage({ dataDir, adoptRoots: {} });
});
after(() => rm(dataDir, { recursive: true, force: true }));

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const pathOf = (location: DatasetLocation) => (location.kind === 'local' ? location.path : assert.fail('local'));
async function filesIn(root: string, prefix = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const d of await readdir(root, { withFileTypes: true })) {
    if (d.isDirectory()) Object.assign(out, await filesIn(join(root, d.name), `${prefix}${d.name}/`));
    else out[`${prefix}${d.name}`] = await readFile(join(root, d.name), 'utf8');
  }
  return out;
}

test('a version adds and replaces files in a new directory; the old version is untouched', async () => {
  const created = await storage.create('a'.repeat(32), { 'a.txt': 'v1', 'dir/b.txt': 'b', c: 'file' });
  assert.equal(
    created.contentHash,
    contentHash([
      { path: 'a.txt', sha256: sha('v1') },
      { path: 'dir/b.txt', sha256: sha('b') },
      { path: 'c', sha256: sha('file') },
    ]),
  );
  const { location } = created;
  const versions = storage.versions;
  assert.ok(versions.supports(location));
  // `c` was a file and becomes a directory.
  const v2 = await versions.add(location, { from: 1, to: 2, files: { 'a.txt': 'v2', 'c/d.txt': 'd' }, replace: false });
  assert.deepEqual(await filesIn(pathOf(location)), { 'a.txt': 'v1', 'dir/b.txt': 'b', c: 'file' });
  assert.deepEqual(await filesIn(pathOf(versions.at(location, 2))), { 'a.txt': 'v2', 'dir/b.txt': 'b', 'c/d.txt': 'd' });
  assert.equal(
    v2.contentHash,
    contentHash([
      { path: 'a.txt', sha256: sha('v2') },
      { path: 'dir/b.txt', sha256: sha('b') },
      { path: 'c/d.txt', sha256: sha('d') },
    ]),
  );

  const v3 = await versions.add(location, { from: 2, to: 3, files: { 'only.txt': 'x' }, replace: true });
  assert.deepEqual(await filesIn(pathOf(versions.at(location, 3))), { 'only.txt': 'x' });
  assert.equal(v3.contentHash, contentHash([{ path: 'only.txt', sha256: sha('x') }]));

  // A version number already taken is a conflict, and leaves that version as it was.
  await assert.rejects(versions.add(location, { from: 2, to: 3, files: { 'z.txt': 'z' }, replace: false }), (e: LedgerflowError) => e.code === 'conflict');
  assert.deepEqual(await filesIn(pathOf(versions.at(location, 3))), { 'only.txt': 'x' });

  // Deleting the dataset removes every version.
  await storage.remove(location);
  assert.deepEqual(await readdir(join(dataDir, 'datasets')), []);
});

test('paths leaving the dataset are refused, each with its path, and nothing is written', async () => {
  const { location } = await storage.create('b'.repeat(32), { 'a.txt': 'v1' });
  await assert.rejects(
    storage.versions.add(location, { from: 1, to: 2, files: { '../x': 'out', '/etc/x': 'abs', 'ok.txt': 'fine' }, replace: false }),
    (e: LedgerflowError) => {
      assert.equal(e.code, 'validation_failed');
      assert.deepEqual(e.details?.map((d) => d.path).sort(), ['files["../x"]', 'files["/etc/x"]']);
      return true;
    },
  );
  assert.deepEqual((await readdir(join(dataDir, 'datasets'))).sort(), ['b'.repeat(32)]);
});
