import { InvalidArgumentError } from 'commander';
import { DURATION_SYNTAX, durationSeconds } from '../core/duration';

/** Option parsers: they throw commander's InvalidArgumentError, which exits with 2 before
 * any request is sent. */

/** Seconds, in the one duration syntax the workflow spec uses too: 90, 30s, 5m, 2h, 1d. */
export function parseDuration(value: string): number {
  const seconds = durationSeconds(value);
  if (seconds === undefined || seconds <= 0) throw new InvalidArgumentError(`must be ${DURATION_SYNTAX}`);
  return seconds;
}

/** A whole number of at least 1 (a page size, a count of lines). */
export function parsePositiveInt(value: string): number {
  const n = /^[0-9]{1,15}$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1');
  return n;
}

/** `name=value`, collected into a record (repeatable options). */
export function collectBinding(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const i = value.indexOf('=');
  if (i <= 0 || i === value.length - 1) throw new InvalidArgumentError('must be name=value');
  return { ...previous, [value.slice(0, i)]: value.slice(i + 1) };
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
