import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSettings } from '../../src/config/settings';
import { LedgerflowError } from '../../src/core/errors';

test('settings default to the embedded engines', () => {
  const s = parseSettings({});
  assert.equal(s.LEDGER, 'embedded');
  assert.equal(s.COMPUTE, 'local');
  assert.equal(s.LEASE_DEFAULT_TTL, 3600);
});

test('a bad setting fails with a message naming it', () => {
  assert.throws(
    () => parseSettings({ COMPUTE: 'mainframe' }),
    (err: unknown) => err instanceof LedgerflowError && err.message.includes('COMPUTE'),
  );
});
