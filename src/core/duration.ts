/**
 * The one duration syntax of ledgerflow, shared by the workflow spec (`timeout`) and the CLI
 * (`--ttl`, `--since`, `--timeout`): whole seconds as a number or a string (`90`), or a whole
 * number with a unit: `90s`, `5m`, `2h`, `1d`. No fractions, signs or spaces inside, so a
 * value reads the same to every parser that sees it (a YAML float, `1.5h`, is refused).
 */

const DURATION = /^([0-9]{1,9})([smhd])?$/;
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** How the syntax is described in error messages and help. */
export const DURATION_SYNTAX = 'seconds or a duration like 30s, 5m, 2h, 1d';

/** Seconds in a duration; undefined when the value is not one (callers bound the range). */
export function durationSeconds(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
  const match = DURATION.exec(value.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_SECONDS[(match[2] ?? 's') as keyof typeof UNIT_SECONDS];
}
