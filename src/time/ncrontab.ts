/**
 * Six-field NCRONTAB, as the Azure Functions host reads a timer's schedule (the NCrontab
 * library): `{second} {minute} {hour} {day} {month} {day-of-week}`, in UTC. Each field is a
 * comma-separated list of `*`, a value or a range `a-b`, each optionally `/step` (`5/15` is
 * 5 to the field's maximum, every 15). Months and days of the week may be named (`Jan`,
 * `Monday`). A time matches when every field does: the day AND the day of the week, not
 * either as Vixie cron (and the cron-parser package this replaced) has it, so
 * `0 0 0 13 * Fri` is Friday the 13th only, as on Azure.
 *
 * Written here rather than taken from a package: no JavaScript cron library has these rules
 * (NCrontab's AND of day and day of week, its grammar without `L`, `W`, `#` or `?`), and
 * mapping one library's grammar onto another's is as much code as this. It is also what a
 * host start with a timer used to spend ~20 ms loading (cron-parser with luxon).
 *
 * Stricter than NCrontab where it would silently do something else: a backwards range
 * (`22-2`, which NCrontab turns into 2-22), a step of 0, a name shorter than three letters
 * (NCrontab takes the first name the letters begin) and a schedule that never occurs
 * (`0 0 0 30 2 *`) are errors.
 */

interface FieldSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}

const FIELDS: readonly FieldSpec[] = [
  { name: 'second', min: 0, max: 59 },
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'],
  },
  { name: 'day-of-week', min: 0, max: 6, names: ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] },
];

/** The longest each month can be (February in a leap year). */
const MONTH_MAX_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** A field's allowed values, indexed by value (NCRONTAB's own numbering: months 1-12). */
type ValueSet = readonly boolean[];

class FieldError extends Error {}

function parseValue(text: string, spec: FieldSpec): number {
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    if (value < spec.min || value > spec.max) throw new FieldError(`${text} is outside ${spec.min}-${spec.max}`);
    return value;
  }
  const lower = text.toLowerCase();
  const index = lower.length >= 3 ? (spec.names?.findIndex((n) => n.startsWith(lower)) ?? -1) : -1;
  if (index < 0) {
    throw new FieldError(
      spec.names === undefined
        ? `"${text}" is not a number from ${spec.min} to ${spec.max}`
        : `"${text}" is neither a number from ${spec.min} to ${spec.max} nor a name (at least three letters of ${spec.names.join(', ')})`,
    );
  }
  return index + spec.min;
}

function parseField(text: string, spec: FieldSpec): ValueSet {
  const set = new Array<boolean>(spec.max + 1).fill(false);
  for (const item of text.split(',')) {
    if (item === '') throw new FieldError('has an empty list item');
    const [base = '', step, ...extra] = item.split('/');
    if (extra.length > 0) throw new FieldError(`"${item}" has more than one "/"`);
    let every = 1;
    if (step !== undefined) {
      if (!/^\d+$/.test(step) || Number(step) === 0) throw new FieldError(`"${item}": the step must be a whole number of at least 1`);
      every = Number(step);
    }
    let from: number;
    let to: number;
    const range = /^([^-]+)-([^-]+)$/.exec(base);
    if (base === '*') {
      from = spec.min;
      to = spec.max;
    } else if (range !== null) {
      from = parseValue(range[1] as string, spec);
      to = parseValue(range[2] as string, spec);
      if (from > to) throw new FieldError(`the range "${base}" runs backwards`);
    } else {
      from = parseValue(base, spec);
      to = step === undefined ? from : spec.max;
    }
    for (let v = from; v <= to; v += every) set[v] = true;
  }
  return set;
}

/** A six-field NCRONTAB expression: the next occurrence strictly after a time. */
export interface Ncrontab {
  readonly text: string;
  nextAfter(time: Date): Date;
}

interface Fields {
  readonly second: ValueSet;
  readonly minute: ValueSet;
  readonly hour: ValueSet;
  readonly day: ValueSet;
  readonly month: ValueSet;
  readonly dayOfWeek: ValueSet;
}

function parseFields(text: string): Fields | string {
  const parts = text.trim().split(/\s+/);
  if (parts.length !== 6) {
    return 'must be an NCRONTAB expression with six fields ({second} {minute} {hour} {day} {month} {day-of-week})';
  }
  const sets: ValueSet[] = [];
  const problems: string[] = [];
  FIELDS.forEach((spec, i) => {
    try {
      sets.push(parseField(parts[i] as string, spec));
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      problems.push(`the ${spec.name} field "${parts[i]}": ${err.message}`);
    }
  });
  if (problems.length > 0) return `is not a valid NCRONTAB expression: ${problems.join('; ')}`;
  const [second, minute, hour, day, month, dayOfWeek] = sets as [ValueSet, ValueSet, ValueSet, ValueSet, ValueSet, ValueSet];
  // Every date of the Gregorian calendar (February 29th too) falls on each day of the week
  // within its 400-year cycle, so a day that exists in a month of the set is enough.
  const someDay = MONTH_MAX_DAYS.some((days, m) => month[m + 1] && day.slice(1, days + 1).some(Boolean));
  if (!someDay) return 'is not a valid NCRONTAB expression: no month of the month field has a day of the day field, so it never occurs';
  return { second, minute, hour, day, month, dayOfWeek };
}

/** Why `text` is not a six-field NCRONTAB expression, or undefined when it is one. */
export function ncrontabProblem(text: string): string | undefined {
  const fields = parseFields(text);
  return typeof fields === 'string' ? fields : undefined;
}

/** The first time at or after `from` (whole seconds, UTC) that every field matches. */
function firstMatch(f: Fields, from: number): Date {
  const t = new Date(from);
  // Each failing field moves to the start of its next unit; a field's unit wraps into the
  // larger one, so the search ends within the 400-year cycle parseFields checked.
  for (;;) {
    if (!f.month[t.getUTCMonth() + 1]) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0, 0, 0);
    } else if (!f.day[t.getUTCDate()] || !f.dayOfWeek[t.getUTCDay()]) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0, 0);
    } else if (!f.hour[t.getUTCHours()]) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
    } else if (!f.minute[t.getUTCMinutes()]) {
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
    } else if (!f.second[t.getUTCSeconds()]) {
      t.setUTCSeconds(t.getUTCSeconds() + 1, 0);
    } else {
      return t;
    }
  }
}

/**
 * Parses an NCRONTAB expression as the Functions host reads a timer's schedule: six fields,
 * `{second} {minute} {hour} {day} {month} {day-of-week}`, in UTC. Pure: the same text and
 * time give the same occurrence, so orchestrators may use it while replaying.
 */
export function parseNcrontab(text: string): Ncrontab {
  const fields = parseFields(text);
  if (typeof fields === 'string') throw new Error(`schedule "${text}" ${fields}`);
  return scheduleOf(text, fields);
}

/** A stored expression that an earlier version accepted (cron-parser took `L`, `#` and 7 for
 * Sunday) but this one does not: undefined, so a reader can show it never fires rather than fail. */
export function storedNcrontab(text: string): Ncrontab | undefined {
  const fields = parseFields(text);
  return typeof fields === 'string' ? undefined : scheduleOf(text, fields);
}

function scheduleOf(text: string, fields: Fields): Ncrontab {
  // Strictly after `time`, at a whole second: as NCrontab, which starts at the next second.
  return { text: text.trim(), nextAfter: (time) => firstMatch(fields, Math.floor(time.getTime() / 1000) * 1000 + 1000) };
}
