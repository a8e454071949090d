import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as yauzl from 'yauzl';

/**
 * `npm run package` builds the zip a Flex Consumption app runs. What must hold: the app and
 * its production dependencies are complete (the extracted zip loads the app), the chaincode
 * workspace is files (not a link the zip cannot carry), and nothing of development is in it.
 */
const root = join(__dirname, '..', '..', '..', '..');

interface Entry {
  readonly name: string;
  readonly isLink: boolean;
}

/** Every entry, from the zip's central directory (nothing is extracted). */
async function entriesOf(file: string): Promise<Entry[]> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) => yauzl.open(file, { lazyEntries: true }, (err, z) => (err ? reject(err) : resolve(z))));
  const entries: Entry[] = [];
  await new Promise<void>((resolve, reject) => {
    zip.on('error', reject);
    zip.on('end', resolve);
    zip.on('entry', (entry: yauzl.Entry) => {
      // The file type sits in the upper 16 bits of the external attributes (Unix zips).
      const isLink = ((entry.externalFileAttributes >>> 16) & 0o170000) === 0o120000;
      entries.push({ name: entry.fileName, isLink });
      zip.readEntry();
    });
    zip.readEntry();
  });
  zip.close();
  return entries;
}

test('the app zip holds the built app and production dependencies only, and loads on its own', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lf-package-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'app.zip');
  execFileSync(process.execPath, [join(root, 'scripts', 'package.js'), '--out', out], { cwd: root, stdio: 'pipe' });
  const app = join(dir, 'app');
  const entries = await entriesOf(out);
  const names = new Set(entries.map((e) => e.name));

  for (const must of ['host.json', 'package.json', 'dist/functions/index.js', 'dist/web/index.html', 'node_modules/durable-functions/package.json']) {
    assert.ok(names.has(must), `${must} is in the zip`);
  }
  // The workspace package as files: its manifest, its compiled contract, nothing of its sources.
  assert.ok(names.has('node_modules/@ledgerflow/chaincode/package.json'));
  assert.ok(names.has('node_modules/@ledgerflow/chaincode/dist/index.js'));
  assert.deepEqual(
    entries.filter((e) => e.isLink).map((e) => e.name),
    [],
    'no symbolic links',
  );
  const devOnly = [...names].filter(
    (n) =>
      /^(test|bench|src|functions|orchestrators|chaincode|scripts|docs|infra|console)\//.test(n) ||
      /^dist\/(test|bench|console)\//.test(n) ||
      n.startsWith('node_modules/@ledgerflow/chaincode/src/') ||
      (!n.startsWith('node_modules/') && n.endsWith('.ts')) ||
      /^node_modules\/(typescript|eslint|fast-check|dependency-cruiser|yazl|yauzl|prettier|@eslint\/js|ajv|vite|preact|playwright-core|@dagrejs)\//.test(n),
  );
  assert.deepEqual(devOnly, [], 'nothing of development');

  // Loading the app from the extracted zip alone proves the dependency tree is complete.
  // Info-ZIP's unzip extracts it, as Azure's deployment does with its own tool (.ci/run
  // installs it).
  const extracted = spawnSync('unzip', ['-q', out, '-d', app], { encoding: 'utf8' });
  assert.equal(extracted.error, undefined, 'unzip is needed for this test (apt-get install unzip)');
  assert.equal(extracted.status, 0, extracted.stderr);
  const load = spawnSync(process.execPath, ['-e', "require('./dist/functions/index.js')"], { cwd: app, encoding: 'utf8', timeout: 60_000 });
  assert.equal(load.status, 0, load.stderr);
});
