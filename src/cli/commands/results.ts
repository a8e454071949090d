import type { Command } from 'commander';
import * as api from '../../api/schemas';
import { action, formatOption, type Context } from '../context';
import { fields, printable, printData, table, who } from '../output';

/** `ledgerflow workflows results|release|reject`: a run's outputs and the owners' review of
 * them (on the ledger). Releasing and rejecting are for the owners of reviewing datasets. */

const resultsPath = (id: string) => `workflows/${encodeURIComponent(id)}/results`;

function printResults(ctx: Context, id: string, r: api.WorkflowResults): void {
  if (ctx.output.structured) return printData(ctx.output, r);
  if (ctx.output.format === 'name') return ctx.output.out(r.files.map((f) => `${printable(f.path)}\n`).join(''));
  ctx.output.out(
    fields([
      ['workflow', id],
      ['results', r.state],
      ...(r.reason === undefined ? [] : [['reason', r.reason] as const]),
      ...(r.outputsSha256 === undefined ? [] : [['outputs sha256', r.outputsSha256] as const]),
      [
        'reviews',
        r.reviews.length === 0
          ? '-'
          : r.reviews
              .map(
                (v) =>
                  `${v.datasetId} (${v.org}): ${v.state}${v.decidedBy === undefined ? '' : ` by ${who(v.decidedBy)}`}${v.reason === undefined ? '' : `: ${v.reason}`}`,
              )
              .join('; '),
      ],
    ]),
  );
  const rows = [
    ...r.files.map((f) => ({ kind: 'file', name: f.path, size: f.size, sha256: f.sha256 })),
    ...r.logs.map((l) => ({ kind: 'log', name: l.job, size: l.size, sha256: l.sha256 })),
  ];
  if (rows.length > 0)
    ctx.output.out(
      `\n${table(rows, [
        ['KIND', (x) => x.kind],
        ['NAME', (x) => x.name],
        ['BYTES', (x) => String(x.size)],
        ['SHA256', (x) => x.sha256],
      ])}`,
    );
}

export function addResultsCommands(workflows: Command): void {
  workflows
    .command('results')
    .description("a finished run's outputs (files and logs, with sha256) and the owners' review of them")
    .argument('<id>', 'workflow id')
    .addOption(formatOption())
    .action(action(async (ctx, id: string) => printResults(ctx, id, await ctx.client.json('GET', resultsPath(id), api.workflowResults))));

  workflows
    .command('release')
    .description("release a run's outputs for your organization's datasets (owners of reviewing datasets; on the ledger)")
    .argument('<id>', 'workflow id')
    .action(action(async (ctx, id: string) => printResults(ctx, id, await ctx.client.json('POST', `${resultsPath(id)}/release`, api.workflowResults))));

  workflows
    .command('reject')
    .description("reject a run's outputs: they are never served and are deleted (owners of reviewing datasets; on the ledger)")
    .argument('<id>', 'workflow id')
    .requiredOption('--reason <text>', 'why (at most 1000 characters; the requester sees it)')
    .action(
      action(async (ctx, id: string, o: { reason: string }) =>
        printResults(ctx, id, await ctx.client.json('POST', `${resultsPath(id)}/reject`, api.workflowResults, { body: { reason: o.reason } })),
      ),
    );
}
