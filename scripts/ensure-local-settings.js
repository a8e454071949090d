#!/usr/bin/env node
// `npm start` on a fresh clone: create local.settings.json from the sample when there is
// none, so the first start has the sample organizations' tokens (the host binds to
// 127.0.0.1 by default). An existing file is never touched.
'use strict';
const { copyFileSync, existsSync, constants } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const target = join(root, 'local.settings.json');
if (!existsSync(target)) {
  copyFileSync(join(root, 'local.settings.sample.json'), target, constants.COPYFILE_EXCL);
  console.log('created local.settings.json from local.settings.sample.json (tokens dev-uis, dev-uio, dev-uib)');
}
