import { stringify } from 'yaml';

/**
 * What the CLI prints: tables and plain lines for people; for scripts, as kubectl does,
 * `-o json` (or `--json`) and `-o yaml` (one document on stdout, nothing else; the YAML reads
 * back as the same data), `-o name` (one name a line) and `-o wide` (more columns). Tables are
 * a few lines of padding, so no table library is pulled in for them.
 */
export const OUTPUT_FORMATS = ['json', 'yaml', 'wide', 'name'] as const;
export type OutputFormat = 'table' | (typeof OUTPUT_FORMATS)[number];

export interface Output {
  readonly format: OutputFormat;
  /** json or yaml: data for scripts instead of text for people. */
  readonly structured: boolean;
  readonly isTTY: boolean;
  /** Terminal width, when stdout is a terminal. */
  readonly columns?: number;
  out(text: string): void;
  err(text: string): void;
}

export function processOutput(format: OutputFormat): Output {
  return {
    format,
    structured: format === 'json' || format === 'yaml',
    isTTY: process.stdout.isTTY === true,
    // A pseudo-terminal without a size reports 0 columns: treat it as unknown.
    ...(process.stdout.columns > 0 ? { columns: process.stdout.columns } : {}),
    out: (text) => {
      process.stdout.write(text);
    },
    err: (text) => {
      process.stderr.write(text);
    },
  };
}

/** The data as one JSON or YAML document. */
export function serialize(format: 'json' | 'yaml', value: unknown): string {
  // No aliases: a script's YAML parser must not have to resolve anchors to get the data.
  return format === 'yaml' ? stringify(value, { aliasDuplicateObjects: false, lineWidth: 0 }) : `${JSON.stringify(value, null, 2)}\n`;
}

/** Data for scripts, in YAML when `-o yaml` asked for it, else JSON. */
export function printData(output: Output, value: unknown): void {
  output.out(serialize(output.format === 'yaml' ? 'yaml' : 'json', value));
}

export type Column<T> = readonly [header: string, cell: (row: T) => string];

/** Server data shown to a person: control characters (a terminal escape in a dataset
 * name, say) are printed as visible escapes, never sent to the terminal. */
export function printable(text: string): string {
  return text.replace(/\p{Cc}/gu, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) => columns.map(([, cell]) => printable(cell(row))));
  const widths = columns.map(([header], i) => Math.max(header.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(columns.map(([h]) => h)), ...cells.map(line)].map((l) => `${l}\n`).join('');
}

/** How a list prints for people: its columns, the extra ones of `-o wide`, and the name
 * `-o name` prints for each row. */
export interface Shape<T> {
  readonly columns: readonly Column<T>[];
  readonly wide?: readonly Column<T>[];
  readonly name: (row: T) => string;
}

/** A list: `data` for scripts (the API's answer), else its rows as names or a table. */
export function printRows<T>(output: Output, data: unknown, rows: readonly T[], shape: Shape<T>, empty: string): void {
  if (output.structured) return printData(output, data);
  if (output.format === 'name') return output.out(rows.map((row) => `${printable(shape.name(row))}\n`).join(''));
  if (rows.length === 0) return output.out(`${empty}\n`);
  output.out(table(rows, output.format === 'wide' ? [...shape.columns, ...(shape.wide ?? [])] : shape.columns));
}

/** One object: `data` for scripts, its name for `-o name`, else as `human` prints it. */
export function printOne(output: Output, data: unknown, name: string, human: () => void): void {
  if (output.structured) return printData(output, data);
  if (output.format === 'name') return output.out(`${printable(name)}\n`);
  human();
}

/** `key: value` lines, aligned. */
export function fields(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${v}\n`).join('');
}

export const who = (identity: { user: string; org: string }) => `${identity.user}@${identity.org}`;

/** 0.4s, 12s, 3m05s, 1h02m. */
export function duration(ms: number): string {
  if (ms < 0) return '-';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function bytes(n: number | undefined): string {
  if (n === undefined) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
