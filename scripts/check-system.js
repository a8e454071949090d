#!/usr/bin/env node
// Detects what the local runner needs from the machine and says clearly what is missing.
// It never installs anything itself: .ci/run (as root) does, and people do on their machines.
'use strict';
const { spawnSync } = require('node:child_process');

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`ledgerflow needs Node.js >= 20.19 (found ${process.versions.node}).`);
  process.exit(1);
}

function works(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 10000 });
  return r.status === 0;
}
const bwrap = works('bwrap', ['--ro-bind', '/', '/', '--unshare-net', '--dev', '/dev', '/bin/true']);
const unshare = !bwrap && works('unshare', ['-rn', '/bin/true']);
if (!bwrap && !unshare) {
  console.warn(
    'warning: neither bubblewrap nor util-linux unshare can create a sandbox here; the local job ' +
      'runner will refuse to run jobs. Install bubblewrap (Debian: apt-get install bubblewrap).',
  );
} else if (!bwrap) {
  console.warn('note: bubblewrap not found; the local runner falls back to util-linux unshare.');
}
// A root host drops its jobs to the unprivileged job user with setpriv before sandboxing them;
// without it a root host refuses to run jobs rather than run them as host root.
if (process.getuid?.() === 0 && !works('setpriv', ['--version'])) {
  console.warn(
    'warning: util-linux setpriv not found; a host running as root will refuse to run jobs. Install util-linux (Debian: apt-get install util-linux).',
  );
}
// npm run build compiles the job supervisor (src/adapters/compute/local/ledgerflow-job.c) and
// its spawner (ledgerflow-spawner.c); without them the local runner uses its shell supervisor,
// a dozen more processes a job, and a node spawner.
if (!require('node:fs').existsSync(require('node:path').join(__dirname, '..', 'dist', 'src', 'adapters', 'compute', 'local', 'ledgerflow-job'))) {
  console.warn(
    'note: no C compiler built the job supervisor; the local runner uses its shell one and a node spawner (more CPU per job). Install gcc (Debian: apt-get install gcc libc6-dev).',
  );
}
// The web console's browser tests drive Debian's chromium (test/integration/console).
if (!require('node:fs').existsSync('/usr/bin/chromium')) {
  console.warn('warning: /usr/bin/chromium not found; the web console browser tests will fail. Install it (Debian: apt-get install chromium).');
}
