#!/usr/bin/env node
'use strict';
// The `ledgerflow` command: the compiled CLI (run `npm run build` first).
try {
  require.resolve('../dist/src/cli/main.js');
} catch {
  process.stderr.write('error: ledgerflow is not built: run `npm run build` in the repository first\n');
  process.exit(1);
}
require('../dist/src/cli/main.js');
