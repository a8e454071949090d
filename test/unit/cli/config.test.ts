import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configPath, DEFAULT_ENDPOINT, resolveConfig, setConfigValue } from '../../../src/cli/config';
import { CliError, exitCodeForStatus } from '../../../src/cli/exitCodes';
import { collectBinding, parseDuration } from '../../../src/cli/parse';

test('config: flag over env over file over default; the file path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lf-cfg-'));
  try {
    const file = join(dir, 'c.json');
    const env = { LEDGERFLOW_CONFIG: file };
    assert.deepEqual(resolveConfig({}, env), { endpoint: DEFAULT_ENDPOINT, token: undefined, sources: { endpoint: 'default', token: 'unset' } });
    setConfigValue(file, 'endpoint', 'https://lf.example.org/api/');
    setConfigValue(file, 'token', 'from-file');
    assert.deepEqual(resolveConfig({}, env), { endpoint: 'https://lf.example.org/api', token: 'from-file', sources: { endpoint: 'file', token: 'file' } });
    const withEnv = { ...env, LEDGERFLOW_ENDPOINT: 'http://h:1/api', LEDGERFLOW_TOKEN: 'from-env' };
    assert.equal(resolveConfig({}, withEnv).token, 'from-env');
    assert.equal(resolveConfig({}, withEnv).endpoint, 'http://h:1/api');
    assert.equal(resolveConfig({ token: 'from-flag', endpoint: 'http://f/api' }, withEnv).token, 'from-flag');
    assert.throws(
      () => resolveConfig({ endpoint: 'not a url' }, env),
      (e: CliError) => e.exitCode === 2,
    );
    writeFileSync(file, '{"endpoint": 3}');
    assert.throws(
      () => resolveConfig({}, env),
      (e: CliError) => e.exitCode === 2 && e.message.includes(file),
    );
    assert.equal(configPath({ XDG_CONFIG_HOME: '/x' }), '/x/ledgerflow/config.json');
    assert.equal(configPath({ LEDGERFLOW_CONFIG: '/y.json', XDG_CONFIG_HOME: '/x' }), '/y.json');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('exit codes by HTTP status', () => {
  assert.deepEqual([400, 401, 403, 404, 409, 410, 413, 418, 500, 503].map(exitCodeForStatus), [2, 5, 5, 3, 4, 3, 2, 1, 6, 6]);
});

test('option parsers', () => {
  assert.deepEqual(['90', '90s', '30m', '2h', '1d'].map(parseDuration), [90, 90, 1800, 7200, 86400]);
  for (const bad of ['', '0', '-1', '1w', 'soon', '1.5h']) assert.throws(() => parseDuration(bad), bad);
  assert.deepEqual(collectBinding('uio=abc', collectBinding('uis=a=b')), { uis: 'a=b', uio: 'abc' });
  assert.throws(() => collectBinding('=x'));
  assert.throws(() => collectBinding('x='));
});
