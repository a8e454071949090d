import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSettings } from '../../../src/config/settings';
import { LedgerflowError } from '../../../src/core/errors';
import { settingTypes } from '../../helpers/settingsSchema';

/** Every setting with a closed set of values (enums) or a number fails start-up with a message naming it. */

const fields = [...settingTypes()].map(([name, type]) => ({ name, type }));

function assertRefused(name: string, value: string): void {
  assert.throws(
    () => parseSettings({ [name]: value }),
    (err: unknown) => err instanceof LedgerflowError && err.code === 'validation_failed' && err.message.includes(name),
    `${name}=${value} should fail naming ${name}`,
  );
}

test('every enum setting refuses a value outside its choices, naming the setting', () => {
  const enums = fields.filter((f) => f.type === 'enum');
  assert.ok(
    enums.some((f) => f.name === 'COMPUTE'),
    'the schema walk found no enums',
  );
  for (const { name } of enums) assertRefused(name, 'not-a-choice');
});

test('every numeric setting refuses a non-number, naming the setting', () => {
  const numbers = fields.filter((f) => f.type === 'number');
  assert.ok(
    numbers.some((f) => f.name === 'LEASE_DEFAULT_TTL'),
    'the schema walk found no numbers',
  );
  for (const { name } of numbers) assertRefused(name, 'twelve');
});

test('the message names only the bad setting, not its value', () => {
  assert.throws(
    () => parseSettings({ COMPUTE: 'secret-looking-value' }),
    (err: unknown) => err instanceof LedgerflowError && !err.message.includes('secret-looking-value'),
  );
});
