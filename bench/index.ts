import { concurrency } from './concurrency';
import { consoleBench } from './console';
import { dataLifecycle } from './dataLifecycle';
import { durable } from './durable';
import { workflows } from './workflows';
import { hostStartup } from './hostStartup';
import { leaseRace } from './leaseRace';
import { ledger } from './ledger';
import { sandbox } from './sandbox';
import type { BenchModule, BenchRow } from './types';

/**
 * `npm run bench [-- <filter>...]`: runs every bench module (or those whose name contains a
 * filter) and prints one table. Speed lives here, never in tests: each row compares with a
 * baseline measured in the same run, so the ratio means something on any machine.
 * Add a module: export a BenchModule from bench/<name>.ts and list it below.
 */
const modules: readonly BenchModule[] = [hostStartup, durable, ledger, sandbox, workflows, concurrency, leaseRace, dataLifecycle, consoleBench];

function format(n: number | undefined): string {
  if (n === undefined) return '';
  return Math.abs(n) >= 100 ? n.toFixed(0) : n.toPrecision(3);
}

function printTable(rows: readonly (BenchRow & { module: string })[]): void {
  const header = ['module', 'measure', 'value', 'unit', 'baseline', 'ratio', 'target', 'ok'];
  const cells = rows.map((r) => [
    r.module,
    r.name,
    format(r.value),
    r.unit,
    format(r.baseline),
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}x`,
    r.target ?? '',
    r.ok === undefined ? '' : r.ok ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const line = (c: readonly string[]) =>
    c
      .map((v, i) => v.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
}

async function main(): Promise<void> {
  const filters = process.argv.slice(2);
  const selected = modules.filter((m) => filters.length === 0 || filters.some((f) => m.name.includes(f)));
  const rows: (BenchRow & { module: string })[] = [];
  for (const m of selected) {
    process.stderr.write(`bench: ${m.name}...\n`);
    for (const row of await m.run()) rows.push({ ...row, module: m.name });
  }
  printTable(rows);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
