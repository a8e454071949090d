#!/usr/bin/env node
// Builds the zip an Azure Functions app (Flex Consumption, zip deploy) runs: host.json,
// package.json, the compiled app (dist/ without tests and benchmarks) and the production
// dependencies only, with the chaincode workspace as plain files (a workspace is a symlink in
// node_modules, which a zip would either drop or store as a link the app could not follow).
// Run after `npm run build` (`npm run package` does both). Usage: node scripts/package.js [--out file]
'use strict';
const { execFileSync } = require('node:child_process');
const { createWriteStream, existsSync, readdirSync, realpathSync, statSync } = require('node:fs');
const { join, relative, sep } = require('node:path');
const { parseArgs } = require('node:util');
const yazl = require('yazl');

const root = join(__dirname, '..');
const { values } = parseArgs({ options: { out: { type: 'string', default: join(root, 'ledgerflow-app.zip') } } });

/** What the app never loads in Azure: tests, benchmarks, tsc's incremental state, and the
 * console's sources compiled for a unit test (its build, dist/web, ships). */
const SKIP_IN_DIST = new Set(['test', 'bench', '.tsbuildinfo', 'console', 'console.tsbuildinfo']);
/** In a package: its own nested packages come separately from `npm ls`; a workspace's sources
 * and build settings are not part of what it publishes. */
const SKIP_IN_PACKAGE = new Set(['node_modules', '.bin']);
const WORKSPACE_FILES = ['package.json', 'dist', 'ledgerflow.json', 'LICENSE', 'README.md'];

function fail(message) {
  console.error(`npm run package: ${message}`);
  process.exit(1);
}

/** Files under dir (links followed only at the top: a package's own links are not ours to ship). */
function* walk(dir, skip) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skip.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path, new Set());
    else if (entry.isFile()) yield path;
  }
}

if (!existsSync(join(root, 'dist', 'functions', 'index.js'))) fail('dist/functions/index.js is missing: run `npm run build` first');

// `npm ls` resolves exactly what `npm ci --omit=dev` would install, from the lockfile's tree.
let listed;
try {
  listed = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
} catch (err) {
  fail(
    `npm ls failed (run \`npm ci\` first): ${
      String(err.stderr ?? err.message)
        .trim()
        .split('\n')[0]
    }`,
  );
}
const packages = listed
  .split('\n')
  .filter((p) => p !== '' && p !== root)
  .map((p) => ({ at: relative(root, p), real: realpathSync(p) }));

const zip = new yazl.ZipFile();
const added = new Set();
const add = (file, name) => {
  const entry = name.split(sep).join('/');
  if (added.has(entry)) return;
  added.add(entry);
  // A fixed time makes two builds of the same tree the same zip.
  zip.addFile(file, entry, { mtime: new Date(Date.UTC(2020, 0, 1)), mode: statSync(file).mode });
};

for (const name of ['host.json', 'package.json']) add(join(root, name), name);
for (const file of walk(join(root, 'dist'), SKIP_IN_DIST)) add(file, relative(root, file));
for (const { at, real } of packages) {
  const workspace = !real.includes(`${sep}node_modules${sep}`);
  if (workspace) {
    for (const name of WORKSPACE_FILES) {
      const path = join(real, name);
      if (!existsSync(path)) continue;
      if (statSync(path).isDirectory()) for (const file of walk(path, new Set())) add(file, join(at, relative(real, file)));
      else add(path, join(at, name));
    }
  } else {
    for (const file of walk(real, SKIP_IN_PACKAGE)) add(file, join(at, relative(real, file)));
  }
}

zip.outputStream.pipe(createWriteStream(values.out)).on('close', () => {
  console.log(`${values.out}: ${added.size} files, ${(statSync(values.out).size / 2 ** 20).toFixed(1)} MiB`);
});
zip.end();
