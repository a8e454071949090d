#!/usr/bin/env node
'use strict';
// Builds the local backend's job supervisor (src/adapters/compute/local/ledgerflow-job.c) next
// to the compiled supervisor.js, after `tsc`. Part of `npm run build`. Where no C compiler is
// found, or it fails, there is no binary and the backend runs its /bin/sh supervisor instead
// (same files, same semantics, a dozen programs more a job): nothing else depends on it.
const { spawnSync } = require('node:child_process');
const { rmSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const source = join(root, 'src', 'adapters', 'compute', 'local', 'ledgerflow-job.c');
const out = join(root, 'dist', 'src', 'adapters', 'compute', 'local', 'ledgerflow-job');

// A binary of an older source must not outlive a failed build.
rmSync(out, { force: true });
const flags = ['-O2', '-Wall', '-Wextra', '-Werror', '-o', out, source];
for (const compiler of [process.env['CC'], 'cc', 'gcc', 'clang'].filter(Boolean)) {
  // Static where the C library allows it: no dynamic loader to run at every job's start.
  for (const extra of [['-static'], []]) {
    const r = spawnSync(compiler, [...extra, ...flags], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (r.status === 0) process.exit(0);
    if (r.error === undefined && extra.length === 0) process.stderr.write(r.stderr);
    if (r.error !== undefined) break;
  }
}
rmSync(out, { force: true });
console.warn('build-native: no C compiler built ledgerflow-job; the local backend will use its /bin/sh supervisor');
