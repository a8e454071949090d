import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { durationSeconds } from '../../../src/core/duration';
import type { LedgerflowError } from '../../../src/core/errors';
import { parseDuration } from '../../../src/cli/parse';
import { parseWorkflowSpec } from '../../../src/core/workflow/spec';
import { durationMs, parseSettings } from '../../../src/config/settings';

/** The one duration syntax: the workflow spec, the CLI and the settings read it alike. */
const UNITS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

test('durations: every form the docs and the thesis examples use', () => {
  assert.deepEqual([90, '90', '90s', '5m', '1h', '2h', '1d', ' 30s '].map(durationSeconds), [90, 90, 90, 300, 3600, 7200, 86_400, 30]);
  for (const bad of ['', '1.5h', '10 minutes', '5 m', '-1', '+5', '1w', '5M', '1e3', '0x10', '5mm', 'm']) assert.equal(durationSeconds(bad), undefined, bad);
  assert.equal(durationSeconds(1.5), undefined);
  assert.equal(durationSeconds(Number.NaN), undefined);
});

test('durations: n with a unit is n times the unit, wherever it is read', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 999_999_999 }), fc.constantFrom('', 's', 'm', 'h', 'd'), (n, unit) => {
      const seconds = n * (UNITS[unit as keyof typeof UNITS] ?? 1);
      assert.equal(durationSeconds(`${n}${unit}`), seconds);
      assert.equal(parseDuration(`${n}${unit}`), seconds);
      assert.equal(durationMs(`${n}${unit}`), seconds * 1000);
    }),
  );
});

test('durations: anything else is refused by each reader, never misread', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 12 }), (text) => {
      const seconds = durationSeconds(text);
      if (seconds === undefined) assert.throws(() => parseDuration(text));
      else assert.match(text.trim(), /^[0-9]{1,9}[smhd]?$/);
    }),
  );
});

test('durations: the spec takes the same syntax within its bound (7 days)', () => {
  const spec = (timeout: string) => parseWorkflowSpec(`jobs:\n  - command: 'true'\n    timeout: ${timeout}\ntimeout: ${timeout}\n`);
  assert.equal(spec('1d').timeoutSeconds, 86_400);
  assert.equal(spec('90').jobs[0]?.timeoutSeconds, 90);
  assert.equal(spec('7d').timeoutSeconds, 7 * 86_400);
  const problems = (timeout: string) => {
    try {
      spec(timeout);
    } catch (err) {
      return (err as LedgerflowError).details?.map((d) => `${d.path}: ${d.message}`).sort();
    }
    assert.fail(`${timeout} was accepted`);
  };
  assert.deepEqual(problems('8d'), [
    'jobs[0].timeout: must be seconds or a duration like 30s, 5m, 2h, 1d (at most 7d)',
    'timeout: must be seconds or a duration like 30s, 5m, 2h, 1d (at most 7d)',
  ]);
  assert.equal(problems('1.5h')?.length, 2);
});

test('durations: a setting takes the same syntax, and 0 for never', () => {
  assert.equal(durationMs('0'), 0);
  assert.equal(durationMs('30d'), 30 * 86_400_000);
  assert.equal(parseSettings({ WORKFLOW_RETENTION: '12h' }).WORKFLOW_RETENTION, '12h');
});
