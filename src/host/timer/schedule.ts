import type * as CronParser from 'cron-parser';
import { parseTimeSpan } from '../wire/duration';

/** cron-parser is loaded on the first cron schedule, off the start path of apps without timers. */
let cronParser: typeof CronParser.CronExpressionParser | undefined;
function cron(): typeof CronParser.CronExpressionParser {
  cronParser ??= (require('cron-parser') as typeof CronParser).CronExpressionParser;
  return cronParser;
}

/** A timer trigger's schedule: the next occurrence strictly after a time. */
export interface Schedule {
  readonly text: string;
  nextAfter(time: Date): Date;
}

/**
 * Parses a timer schedule as the Functions host does: an NCRONTAB expression with six
 * fields (`{second} {minute} {hour} {day} {month} {day-of-week}`, UTC), or a TimeSpan
 * (`hh:mm:ss`) meaning a fixed interval.
 */
export function parseSchedule(text: string): Schedule {
  const trimmed = text.trim();
  const interval = parseTimeSpan(trimmed);
  if (interval !== undefined) {
    if (interval <= 0) throw new Error(`schedule "${text}": the interval must be positive`);
    return { text: trimmed, nextAfter: (time) => new Date(time.getTime() + interval) };
  }
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 6) {
    throw new Error(`schedule "${text}" must be an NCRONTAB expression with six fields ({second} {minute} {hour} {day} {month} {day-of-week}) or a TimeSpan`);
  }
  try {
    cron().parse(trimmed, { tz: 'UTC' });
  } catch (err) {
    throw new Error(`schedule "${text}" is not a valid NCRONTAB expression: ${(err as Error).message}`, { cause: err });
  }
  return {
    text: trimmed,
    nextAfter: (time) => cron().parse(trimmed, { currentDate: time, tz: 'UTC' }).next().toDate(),
  };
}
