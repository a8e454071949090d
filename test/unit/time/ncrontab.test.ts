import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ncrontabProblem, parseNcrontab, storedNcrontab } from '../../../src/time/ncrontab';

const next = (expr: string, after: string): string => parseNcrontab(expr).nextAfter(new Date(after)).toISOString();

test("the Functions docs' examples", () => {
  assert.equal(next('0 */5 * * * *', '2026-01-01T00:03:00Z'), '2026-01-01T00:05:00.000Z');
  assert.equal(next('0 0 * * * *', '2026-01-01T00:00:00Z'), '2026-01-01T01:00:00.000Z');
  assert.equal(next('0 0 */2 * * *', '2026-01-01T01:00:00Z'), '2026-01-01T02:00:00.000Z');
  assert.equal(next('0 0 9-17 * * *', '2026-01-01T17:30:00Z'), '2026-01-02T09:00:00.000Z');
  assert.equal(next('0 30 9 * * *', '2026-01-01T09:30:00Z'), '2026-01-02T09:30:00.000Z');
  // 2026-01-02 is a Friday: the next weekday 09:30 is Monday the 5th.
  assert.equal(next('0 30 9 * * 1-5', '2026-01-02T10:00:00Z'), '2026-01-05T09:30:00.000Z');
  assert.equal(next('0 30 9 * Jan Mon', '2026-01-06T00:00:00Z'), '2026-01-12T09:30:00.000Z');
  assert.equal(next('0 30 9 * Jan Mon', '2026-01-27T00:00:00Z'), '2027-01-04T09:30:00.000Z');
});

test('a day and a day of the week must both match, as NCrontab has it (not either, as Vixie cron)', () => {
  // Friday the 13th: after 2026-01-01, February 13th 2026 is the first.
  assert.equal(next('0 0 0 13 * Fri', '2026-01-01T00:00:00Z'), '2026-02-13T00:00:00.000Z');
  assert.equal(next('0 0 0 13 * 5', '2026-02-13T00:00:00Z'), '2026-03-13T00:00:00.000Z');
});

test('strictly after the time, at whole seconds', () => {
  assert.equal(next('*/5 * * * * *', '2026-01-01T00:00:02.500Z'), '2026-01-01T00:00:05.000Z');
  assert.equal(next('*/5 * * * * *', '2026-01-01T00:00:05.000Z'), '2026-01-01T00:00:10.000Z');
  assert.equal(next('*/5 * * * * *', '2026-01-01T00:00:04.999Z'), '2026-01-01T00:00:05.000Z');
  assert.equal(next('* * * * * *', '2026-12-31T23:59:59.999Z'), '2027-01-01T00:00:00.000Z');
});

test('steps from a value run to the field maximum; lists, names and their case', () => {
  assert.equal(next('5/20 * * * * *', '2026-01-01T00:00:45Z'), '2026-01-01T00:01:05.000Z');
  assert.equal(next('0 0 0 1 feb,AUGUST *', '2026-03-01T00:00:00Z'), '2026-08-01T00:00:00.000Z');
  assert.equal(next('0 0 0 * * SUNDAY', '2026-01-01T00:00:00Z'), '2026-01-04T00:00:00.000Z');
  assert.equal(next('0 0 0 29 2 *', '2026-03-01T00:00:00Z'), '2028-02-29T00:00:00.000Z');
  assert.equal(next('0 0 0 31 * *', '2026-04-01T00:00:00Z'), '2026-05-31T00:00:00.000Z');
});

test('what is wrong, for every field at once, in one message', () => {
  assert.match(ncrontabProblem('0 * * * *') ?? '', /must be an NCRONTAB expression with six fields/);
  const problem = ncrontabProblem('60 * 24 0 13 7') ?? '';
  for (const part of [
    /the second field "60": 60 is outside 0-59/,
    /the hour field "24": 24 is outside 0-23/,
    /the day field "0": 0 is outside 1-31/,
    /the month field "13": 13 is outside 1-12/,
    /the day-of-week field "7": 7 is outside 0-6/,
  ]) {
    assert.match(problem, part);
  }
  assert.doesNotMatch(problem, /minute/);
  assert.match(ncrontabProblem('0 0 22-2 * * *') ?? '', /the hour field "22-2": the range "22-2" runs backwards/);
  assert.match(ncrontabProblem('*/0 * * * * *') ?? '', /the step must be a whole number of at least 1/);
  assert.match(ncrontabProblem('0 0 0 L * *') ?? '', /the day field "L": "L" is not a number from 1 to 31/);
  assert.match(ncrontabProblem('0 0 0 * * MO') ?? '', /nor a name \(at least three letters of sunday/);
  assert.match(ncrontabProblem('0 0 0 * * 1#2') ?? '', /day-of-week field/);
  assert.match(ncrontabProblem('0 0 0 1, * *') ?? '', /has an empty list item/);
  assert.match(ncrontabProblem('0 0 0 30 2 *') ?? '', /never occurs/);
  assert.throws(() => parseNcrontab('a b c d e f'), /schedule "a b c d e f" is not a valid NCRONTAB expression/);
});

test('a stored schedule an earlier version accepted and this one does not never fires, and nothing throws', () => {
  // cron-parser took these; a schedule saved with one is shown with no next run.
  for (const text of ['0 0 0 L * *', '0 0 0 * * 7', '0 0 0 ? * 1#2']) assert.equal(storedNcrontab(text), undefined, text);
  assert.equal(storedNcrontab('0 0 6 * * 1-5')?.nextAfter(new Date('2026-01-03T00:00:00Z')).toISOString(), '2026-01-05T06:00:00.000Z');
});

// The properties: expressions built from random items, whose allowed values the generator
// knows, against an independent search that walks the calendar day by day.
const FIELD_RANGES = [
  [0, 59],
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 6],
] as const;

interface Item {
  text: string;
  values: number[];
}

const item = ([min, max]: readonly [number, number]): fc.Arbitrary<Item> =>
  fc.oneof(
    fc.integer({ min, max }).map((v) => ({ text: String(v), values: [v] })),
    fc.tuple(fc.integer({ min, max }), fc.integer({ min, max }), fc.option(fc.integer({ min: 1, max: max + 1 }), { nil: undefined })).map(([a, b, step]) => {
      const [from, to] = a <= b ? [a, b] : [b, a];
      const values: number[] = [];
      for (let v = from; v <= to; v += step ?? 1) values.push(v);
      return { text: `${from}-${to}${step === undefined ? '' : `/${step}`}`, values };
    }),
    fc.integer({ min: 1, max: max + 1 }).map((step) => {
      const values: number[] = [];
      for (let v = min; v <= max; v += step) values.push(v);
      return { text: step === 1 ? '*' : `*/${step}`, values };
    }),
  );

const field = (range: readonly [number, number]) =>
  fc
    .array(item(range), { minLength: 1, maxLength: 3 })
    .map((items) => ({ text: items.map((i) => i.text).join(','), allowed: new Set(items.flatMap((i) => i.values)) }));

const expression = fc.tuple(...FIELD_RANGES.map(field)).map((fields) => ({ text: fields.map((f) => f.text).join(' '), allowed: fields.map((f) => f.allowed) }));

const matchesDay = (allowed: Set<number>[], d: Date): boolean =>
  allowed[3]!.has(d.getUTCDate()) && allowed[4]!.has(d.getUTCMonth() + 1) && allowed[5]!.has(d.getUTCDay());

/** The first allowed second of a day after `afterSecond` (-1: any), by brute force. */
function firstSecondOfDay(allowed: Set<number>[], afterSecond: number): number | undefined {
  for (let h = 0; h < 24; h++) {
    if (!allowed[2]!.has(h)) continue;
    for (let m = 0; m < 60; m++) {
      if (!allowed[1]!.has(m)) continue;
      for (let s = 0; s < 60; s++) if (allowed[0]!.has(s) && h * 3600 + m * 60 + s > afterSecond) return h * 3600 + m * 60 + s;
    }
  }
  return undefined;
}

test('property: the next occurrence is the first time after the given one that every field allows', () => {
  fc.assert(
    fc.property(expression, fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true }), (e, after) => {
      const problem = ncrontabProblem(e.text);
      const occurs = [...e.allowed[4]!].some((m) => [...e.allowed[3]!].some((d) => d <= [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!));
      if (!occurs) {
        assert.match(problem ?? '', /never occurs/);
        return;
      }
      assert.equal(problem, undefined);
      const got = parseNcrontab(e.text).nextAfter(after);
      // The reference: walk the days from the given one; on the first day that matches,
      // the first allowed second after the given time of day (any on later days).
      const day = new Date(Date.UTC(after.getUTCFullYear(), after.getUTCMonth(), after.getUTCDate()));
      let afterSecond = Math.floor((after.getTime() - day.getTime()) / 1000);
      for (;;) {
        const second = matchesDay(e.allowed, day) ? firstSecondOfDay(e.allowed, afterSecond) : undefined;
        if (second !== undefined) {
          assert.equal(got.toISOString(), new Date(day.getTime() + second * 1000).toISOString(), e.text);
          return;
        }
        day.setUTCDate(day.getUTCDate() + 1);
        afterSecond = -1;
      }
    }),
    { numRuns: 300 },
  );
});

test('property: any text gets an answer, never an exception', () => {
  const token = fc.oneof(
    fc.constantFrom('*', '/', '-', ',', 'L', '?', '#', 'W', 'Mon', 'jan', ' ', '0', '7', '60', '99999999999999999999'),
    fc.string({ maxLength: 4 }),
  );
  fc.assert(
    fc.property(fc.array(token, { maxLength: 20 }), (tokens) => {
      const text = tokens.join('');
      const problem = ncrontabProblem(text);
      if (problem === undefined) parseNcrontab(text).nextAfter(new Date('2026-01-01T00:00:00Z'));
      else
        assert.throws(
          () => parseNcrontab(text),
          (err: Error) => err.message === `schedule "${text}" ${problem}`,
        );
    }),
  );
});
