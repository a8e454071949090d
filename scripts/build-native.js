#!/usr/bin/env node
'use strict';
// Builds the local backend's job supervisor (src/adapters/compute/local/ledgerflow-job.c) and
// its supervisor spawner (ledgerflow-spawner.c) next to the compiled supervisor.js, after
// `tsc`. Part of `npm run build`. Where no C compiler is found, or it fails, there is no
// binary and the backend runs its /bin/sh supervisor and its node spawner instead (same
// files, same semantics, more CPU a job): nothing else depends on them.
const { spawnSync } = require('node:child_process');
const { rmSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const fallbacks = { 'ledgerflow-job': 'its /bin/sh supervisor', 'ledgerflow-spawner': 'its node supervisor spawner' };

function build(name) {
  const source = join(root, 'src', 'adapters', 'compute', 'local', `${name}.c`);
  const out = join(root, 'dist', 'src', 'adapters', 'compute', 'local', name);
  // A binary of an older source must not outlive a failed build.
  rmSync(out, { force: true });
  const flags = ['-O2', '-Wall', '-Wextra', '-Werror', '-o', out, source];
  for (const compiler of [process.env['CC'], 'cc', 'gcc', 'clang'].filter(Boolean)) {
    // Static where the C library allows it: no dynamic loader to run at every job's start.
    for (const extra of [['-static'], []]) {
      const r = spawnSync(compiler, [...extra, ...flags], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
      if (r.status === 0) return;
      if (r.error === undefined && extra.length === 0) process.stderr.write(r.stderr);
      if (r.error !== undefined) break;
    }
  }
  rmSync(out, { force: true });
  console.warn(`build-native: no C compiler built ${name}; the local backend will use ${fallbacks[name]}`);
}

for (const name of Object.keys(fallbacks)) build(name);
