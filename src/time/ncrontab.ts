import { createRequire } from 'node:module';
import type * as CronParser from 'cron-parser';

/** cron-parser is loaded on the first cron schedule, off the start path of apps without timers. */
let cronParser: typeof CronParser.CronExpressionParser | undefined;
function cron(): typeof CronParser.CronExpressionParser {
  if (cronParser === undefined) {
    // cron-parser does its date arithmetic with luxon, whose every DateTime asks ICU for the
    // system's locale and time zone unless defaults are set: the process's first Intl object,
    // about 10 ms of every host start with a timer. Every schedule here is UTC and no date is
    // formatted, so neither matters; this luxon is cron-parser's own (no one else loads it).
    const luxon = createRequire(require.resolve('cron-parser'))('luxon') as { Settings: { defaultLocale: string; defaultZone: string } };
    luxon.Settings.defaultLocale = 'en-US';
    luxon.Settings.defaultZone = 'UTC';
    cronParser = (require('cron-parser') as typeof CronParser).CronExpressionParser;
  }
  return cronParser;
}

/** A six-field NCRONTAB expression: the next occurrence strictly after a time. */
export interface Ncrontab {
  readonly text: string;
  nextAfter(time: Date): Date;
}

/** Why `text` is not a six-field NCRONTAB expression, or undefined when it is one. */
export function ncrontabProblem(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed.split(/\s+/).length !== 6) {
    return 'must be an NCRONTAB expression with six fields ({second} {minute} {hour} {day} {month} {day-of-week})';
  }
  try {
    cron().parse(trimmed, { tz: 'UTC' });
    return undefined;
  } catch (err) {
    return `is not a valid NCRONTAB expression: ${(err as Error).message}`;
  }
}

/**
 * Parses an NCRONTAB expression as the Functions host reads a timer's schedule: six fields,
 * `{second} {minute} {hour} {day} {month} {day-of-week}`, in UTC. Pure: the same text and
 * time give the same occurrence, so orchestrators may use it while replaying.
 */
export function parseNcrontab(text: string): Ncrontab {
  const problem = ncrontabProblem(text);
  if (problem !== undefined) throw new Error(`schedule "${text}" ${problem}`);
  const trimmed = text.trim();
  return { text: trimmed, nextAfter: (time) => cron().parse(trimmed, { currentDate: time, tz: 'UTC' }).next().toDate() };
}
