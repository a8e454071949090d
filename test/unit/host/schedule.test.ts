import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSchedule } from '../../../src/host/timer/schedule';
import { parseTimeSpan } from '../../../src/host/wire/duration';

test('six-field NCRONTAB schedules, in UTC', () => {
  const s = parseSchedule('*/5 * * * * *');
  assert.equal(s.nextAfter(new Date('2026-01-01T00:00:02.500Z')).toISOString(), '2026-01-01T00:00:05.000Z');
  const daily = parseSchedule('0 30 2 * * *');
  assert.equal(daily.nextAfter(new Date('2026-01-01T03:00:00Z')).toISOString(), '2026-01-02T02:30:00.000Z');
});

test('TimeSpan schedules are fixed intervals', () => {
  assert.equal(parseSchedule('00:00:30').nextAfter(new Date('2026-01-01T00:00:00Z')).toISOString(), '2026-01-01T00:00:30.000Z');
});

test('five-field cron and nonsense are rejected with the schedule named', () => {
  assert.throws(() => parseSchedule('0 * * * *'), /"0 \* \* \* \*" must be an NCRONTAB expression with six fields/);
  assert.throws(() => parseSchedule('a b c d e f'), /not a valid NCRONTAB/);
});

test('.NET TimeSpan parsing', () => {
  assert.equal(parseTimeSpan('00:00:30'), 30_000);
  assert.equal(parseTimeSpan('1.02:00:00'), 26 * 3600_000);
  assert.equal(parseTimeSpan('00:00:00.200'), 200);
  assert.equal(parseTimeSpan('30s'), undefined);
});
