import { InvalidArgumentError } from 'commander';

/** Option parsers: they throw commander's InvalidArgumentError, which exits with 2. */

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds, or a number with a unit: 90s, 30m, 2h, 1d. */
export function parseDuration(value: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(value.trim());
  const seconds = m === null ? NaN : Number(m[1]) * (UNITS[m[2] || 's'] ?? NaN);
  if (!Number.isSafeInteger(seconds) || seconds <= 0) throw new InvalidArgumentError('must be seconds or a duration like 90s, 30m, 2h, 1d');
  return seconds;
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
