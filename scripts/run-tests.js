#!/usr/bin/env node
// Runs every compiled *.test.js under dist/test with node's test runner. Explicit file
// lists keep helpers and protocol fakes (also under test/) from being run as tests.
// Extra arguments narrow the run: `npm test -- integration` runs files whose path contains it.
// The whole suite (no filter, as CI runs it) starts with `npm run lint`: ESLint, Prettier
// and the layering rules, so a wrong import fails CI like a failing test does. `--no-lint`
// runs the whole suite without it (CI's second pass on another Node, already linted).
'use strict';
const { readdirSync } = require('node:fs');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');

function collect(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return collect(p);
    return e.name.endsWith('.test.js') ? [p] : [];
  });
}
const args = process.argv.slice(2);
const lint = !args.includes('--no-lint');
const filters = args.filter((a) => a !== '--no-lint');
if (filters.length === 0 && lint) {
  const linted = spawnSync('npm', ['run', 'lint'], { stdio: 'inherit', cwd: join(__dirname, '..') });
  if (linted.status !== 0) process.exit(linted.status ?? 1);
}
const files = collect(join(__dirname, '..', 'dist', 'test'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const setup = join(__dirname, '..', 'dist', 'test', 'helpers', 'testSetup.js');
const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--require', setup, ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
