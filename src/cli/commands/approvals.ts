import { Command, Option } from 'commander';
import * as api from '../../api/schemas';
import { encodePath } from '../client';
import { action, formatOption, type Context } from '../context';
import { fields, printData, printRows, who } from '../output';
import { addPagingOptions, fetchPages, printMore, type Paging } from '../paging';

/** `ledgerflow approvals list|show|approve|reject`: an owner's review of the runs that
 * lessees want to run on its datasets. */

const path = (id: string) => `approvals/${encodeURIComponent(id)}`;

function printDecided(ctx: Context, decided: api.ApprovalDecided): void {
  if (ctx.output.structured) return printData(ctx.output, decided);
  for (const d of decided.items)
    ctx.output.out(`${d.state} workflow ${decided.workflowId} on dataset ${d.datasetName} (${d.datasetId})${d.reuse === true ? ', reusable' : ''}\n`);
}

/** The review: the YAML and every file with its sha256, so the owner reads what would run. */
async function show(ctx: Context, id: string): Promise<void> {
  const review = await ctx.client.json('GET', path(id), api.approvalReview);
  if (ctx.output.structured) return printData(ctx.output, review);
  if (ctx.output.format === 'name') return ctx.output.out(`${review.workflowId}\n`);
  ctx.output.out(
    fields([
      ['workflow', `${review.workflowId} (${review.status})`],
      ['requester', who(review.requester)],
      ['spec hash', review.specHash],
      ['files hash', review.filesHash],
      ['datasets', review.datasets.map((d) => `${d.name} (${d.id}, ${d.owner}): ${d.state}`).join('; ')],
    ]),
  );
  ctx.output.out(`\n--- workflow.yaml\n${review.workflow}${review.workflow.endsWith('\n') ? '' : '\n'}`);
  for (const f of review.files) {
    ctx.output.out(`\n--- ${f.path} (${f.size} bytes, sha256 ${f.sha256})\n`);
    // Over 1 MiB the server sends no content: fetch it, so the owner still reads every byte.
    const content = f.content ?? (await ctx.client.bytes('GET', `${path(id)}/files/${encodePath(f.path)}`)).toString('utf8');
    ctx.output.out(`${content}${content.endsWith('\n') || content === '' ? '' : '\n'}`);
  }
}

export function approvalsCommand(): Command {
  const approvals = new Command('approvals').description("review and decide lessees' runs on your organization's datasets (on the ledger)");

  addPagingOptions(
    approvals
      .command('list')
      .description("requests on your organization's datasets, newest first")
      .addOption(new Option('--state <state>', 'only requests in this state').choices(api.approvalState.options))
      .addOption(formatOption()),
    100,
    20,
  ).action(
    action(async (ctx, o: Paging & { state?: string }) => {
      const page = await fetchPages(ctx.client, 'approvals', api.approvalPage, { state: o.state }, o);
      printRows(
        ctx.output,
        page,
        page.items,
        {
          columns: [
            ['WORKFLOW', (a) => a.workflowId],
            ['DATASET', (a) => a.datasetName],
            ['REQUESTER', (a) => who(a.requester)],
            ['STATE', (a) => `${a.state}${a.reusedFrom === undefined ? '' : ' (reused)'}`],
            ['REQUESTED', (a) => a.requestedAt],
          ],
          wide: [
            ['DATASET ID', (a) => a.datasetId],
            ['SPEC HASH', (a) => a.specHash],
          ],
          name: (a) => a.workflowId,
        },
        'no approval requests',
      );
      printMore(ctx.output, page.nextCursor, 'approvals list');
    }),
  );

  approvals
    .command('show')
    .description('what the run would execute: its workflow.yaml and every code file with its sha256')
    .argument('<workflowId>', 'workflow id')
    .addOption(formatOption())
    .action(action(async (ctx, id: string) => show(ctx, id)));

  approvals
    .command('approve')
    .description("approve the run's requests on your organization's datasets")
    .argument('<workflowId>', 'workflow id')
    .option('--reuse', 'also let later runs with the same spec and files, by the same holder under the same lease, start without asking')
    .option('--comment <text>', 'recorded with the approval')
    .action(
      action(async (ctx, id: string, o: { reuse?: boolean; comment?: string }) => {
        const body = { reuse: o.reuse === true, ...(o.comment === undefined ? {} : { comment: o.comment }) };
        printDecided(ctx, await ctx.client.json('POST', `${path(id)}/approve`, api.approvalDecided, { body }));
      }),
    );

  approvals
    .command('reject')
    .description('reject the run: it ends as Rejected and nothing of it runs')
    .argument('<workflowId>', 'workflow id')
    .requiredOption('--reason <text>', 'why (at most 1000 characters; the requester sees it)')
    .action(
      action(async (ctx, id: string, o: { reason: string }) => {
        printDecided(ctx, await ctx.client.json('POST', `${path(id)}/reject`, api.approvalDecided, { body: { reason: o.reason } }));
      }),
    );

  return approvals;
}
