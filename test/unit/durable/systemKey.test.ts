import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadOrCreateSystemKey, newSecret, secretMatcher, systemKeyPath } from '../../../src/durable/systemKey';

test('the system key is made once (256 bits, 0600) and kept across starts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'durable-key-'));
  try {
    const key = loadOrCreateSystemKey(dir);
    assert.equal(Buffer.from(key, 'base64url').length, 32);
    assert.equal(statSync(systemKeyPath(dir)).mode & 0o777, 0o600);
    assert.equal(loadOrCreateSystemKey(dir), key);
    assert.notEqual(loadOrCreateSystemKey(mkdtempSync(join(dir, 'other-'))), key);
    writeFileSync(systemKeyPath(dir), 'short\n');
    assert.throws(() => loadOrCreateSystemKey(dir), /does not hold a durable system key/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('secrets match only exactly', () => {
  const s = newSecret();
  const matches = secretMatcher(s);
  assert.ok(matches(s));
  for (const other of [undefined, '', s.slice(1), `${s}x`, newSecret(), s.toLowerCase() === s ? s.toUpperCase() : s.toLowerCase()]) {
    assert.equal(matches(other), false);
  }
});
