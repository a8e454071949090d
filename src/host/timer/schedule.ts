import { parseNcrontab } from '../../time/ncrontab';
import { parseTimeSpan } from '../wire/duration';

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
  return parseNcrontab(trimmed);
}
