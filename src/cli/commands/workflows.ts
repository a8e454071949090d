import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import * as api from '../../api/schemas';
import { encodePath, type ApiClient } from '../client';
import { action, formatOption } from '../context';
import { CliError, EXIT } from '../exitCodes';
import { DEFAULT_MAX_UPLOAD_BYTES, workflowFiles } from '../localFiles';
import { duration, printData, printOne, printRows, type Output } from '../output';
import { addPagingOptions, fetchPages, printMore, type Paging } from '../paging';
import { collect, collectBinding, parseDuration } from '../parse';
import { loadWorkflow, workflowDir } from '../workflowFile';
import { addLogsCommand } from './logs';
import { addResultsCommands } from './results';
import { exitFor, FINISHED, progressTable, watchWorkflow } from '../watch';

/** `ledgerflow workflows run|list|status|wait|resubmit|cancel|delete|logs|download|receipt|results|release|reject`. */

const runPath = (id: string) => `workflows/${encodeURIComponent(id)}`;

export interface RunOptions {
  file: string;
  dataset?: Record<string, string>;
  include?: string[];
  allFiles?: boolean;
  maxBytes?: number;
}

/** The workflow's YAML and the code files to send with it (as `workflows run` and `schedules create` read them). */
export function readWorkflowSubmission(o: RunOptions): { workflow: string; files: Record<string, string> } {
  const workflow = loadWorkflow(o.file, o.dataset ?? {});
  const files = workflowFiles(workflowDir(o.file), workflow.commands, o.file, {
    ...(o.include === undefined ? {} : { include: o.include }),
    ...(o.allFiles === undefined ? {} : { all: o.allFiles }),
    ...(o.maxBytes === undefined ? {} : { maxBytes: o.maxBytes }),
  });
  return { workflow: workflow.text, files };
}

/** Adds the options that choose a workflow and its files (`workflows run`, `schedules create`). */
export function addWorkflowFileOptions(command: Command): Command {
  return command
    .requiredOption('-f, --file <workflow.yaml>', 'the workflow (- reads it from stdin; code files are then looked up in the current directory)')
    .option('-d, --dataset <name=id>', 'set the dataset id of every volume with this name (repeatable)', collectBinding)
    .option('-i, --include <path>', "also upload this file (relative to the yaml's directory; repeatable)", collect)
    .option('--all-files', "upload every file under the yaml's directory (hidden files skipped)")
    .option('--max-bytes <n>', 'refuse uploads larger than this', (v) => Number(v), DEFAULT_MAX_UPLOAD_BYTES);
}

/** Reads the workflow and its code files and submits them; resolves with the run id. */
export async function submitWorkflow(client: ApiClient, o: RunOptions): Promise<{ accepted: api.WorkflowAccepted; files: string[] }> {
  const { workflow, files } = readWorkflowSubmission(o);
  const accepted = await client.json('POST', 'workflows', api.workflowAccepted, { body: { workflow, files } });
  return { accepted, files: Object.keys(files) };
}

/** The spec and code files a run was submitted with, as its requester's organization (and
 * its datasets' owners) may read them: GET /approvals/{id}, the review of every run. A file
 * over 1 MiB comes from its own route. */
async function submittedAs(client: ApiClient, id: string): Promise<{ workflow: string; files: Record<string, string> }> {
  const review = await client.json('GET', `approvals/${encodeURIComponent(id)}`, api.approvalReview);
  const files: Record<string, string> = {};
  for (const f of review.files) {
    files[f.path] = f.content ?? (await client.bytes('GET', `approvals/${encodeURIComponent(id)}/files/${encodePath(f.path)}`)).toString('utf8');
  }
  return { workflow: review.workflow, files };
}

/** Waits for the run to finish, at most `timeoutSeconds`; undefined when it did not. */
async function waitFor(client: ApiClient, id: string, timeoutSeconds: number | undefined, intervalMs = 1000): Promise<api.WorkflowView | undefined> {
  const deadline = timeoutSeconds === undefined ? Infinity : Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const view = await client.json('GET', runPath(id), api.workflowView);
    if (FINISHED.has(view.status)) return view;
    if (Date.now() >= deadline) return undefined;
    await new Promise((r) => setTimeout(r, Math.min(intervalMs, Math.max(deadline - Date.now(), 0))));
  }
}

function printView(output: Output, view: api.WorkflowView): void {
  printOne(output, view, view.id, () => output.out(progressTable(view, Date.now(), output.format === 'wide')));
}

export function workflowsCommand(): Command {
  const workflows = new Command('workflows').description('run workflows beside leased data and follow them');

  addWorkflowFileOptions(
    workflows
      .command('run')
      .description(
        'submit a workflow.yaml; uploads the files its commands name (each word of a command that is a file in the ' +
          "yaml's directory, e.g. `python uis.py` uploads uis.py), plus --include, or everything with --all-files",
      ),
  )
    .option('-w, --watch', 'follow the run until it ends; exit 1 unless it succeeds')
    .option('-q, --quiet', 'without --watch, print only the workflow id')
    .action(
      action(async (ctx, o: RunOptions & { watch?: boolean; quiet?: boolean }) => {
        const { accepted, files } = await submitWorkflow(ctx.client, o);
        if (o.watch !== true) {
          if (ctx.output.structured) return printData(ctx.output, accepted);
          if (o.quiet === true) return ctx.output.out(`${accepted.id}\n`);
          ctx.output.out(
            `submitted workflow ${accepted.id} (files: ${files.join(', ') || 'none'})\nfollow it with: ledgerflow workflows status ${accepted.id} --watch\n`,
          );
          return;
        }
        if (!ctx.output.structured) ctx.output.out(`submitted workflow ${accepted.id} (files: ${files.join(', ') || 'none'})\n`);
        const view = await watchWorkflow(ctx.client, accepted.id, ctx.output);
        if (ctx.output.structured) printData(ctx.output, view);
        return exitFor(view);
      }),
    );

  addPagingOptions(
    workflows
      .command('list')
      .description('runs of your organization, newest first')
      .addOption(new Option('--status <status>', 'only runs in this state').choices(api.workflowStatus.options))
      .addOption(formatOption()),
    100,
    20,
  ).action(
    action(async (ctx, o: Paging & { status?: string }) => {
      const page = await fetchPages(ctx.client, 'workflows', api.workflowPage, { status: o.status }, o);
      printRows(
        ctx.output,
        page,
        page.items,
        {
          columns: [
            ['ID', (w) => w.id],
            ['STATUS', (w) => w.status],
            ['JOBS', (w) => `${w.jobs.filter((j) => j.status === 'Succeeded').length}/${w.jobs.length}`],
            ['CREATED', (w) => w.createdAt],
            ['TIME', (w) => duration(Date.parse(w.updatedAt) - Date.parse(w.createdAt))],
          ],
          wide: [
            ['UPDATED', (w) => w.updatedAt],
            ['APPROVALS', (w) => (w.approvals ?? []).map((a) => `${a.owner}:${a.state}`).join(',')],
            ['MESSAGE', (w) => (w.message ?? '').split('\n')[0] ?? ''],
          ],
          name: (w) => w.id,
        },
        'no workflows',
      );
      printMore(ctx.output, page.nextCursor, 'workflows list');
    }),
  );

  workflows
    .command('status')
    .description('status of a run and of each job; with --watch, follow it (exit 1 unless it succeeds)')
    .argument('<id>', 'workflow id')
    .option('-w, --watch', 'follow the run until it ends')
    .addOption(formatOption())
    .action(
      action(async (ctx, id: string, o: { watch?: boolean }) => {
        if (o.watch !== true) return printView(ctx.output, await ctx.client.json('GET', runPath(id), api.workflowView));
        const view = await watchWorkflow(ctx.client, id, ctx.output);
        if (ctx.output.structured) printData(ctx.output, view);
        return exitFor(view);
      }),
    );

  workflows
    .command('wait')
    .description(`wait until a run ends, quietly: exit 0 when it Succeeded, ${EXIT.failure} when it ended otherwise, ${EXIT.timeout} at --timeout`)
    .argument('<id>', 'workflow id')
    .addOption(new Option('--timeout <duration>', 'give up after this long (seconds, or 30s, 5m, 2h, 1d)').argParser(parseDuration))
    .addOption(formatOption())
    .action(
      action(async (ctx, id: string, o: { timeout?: number }) => {
        const view = await waitFor(ctx.client, id, o.timeout);
        if (view === undefined) throw new CliError(EXIT.timeout, 'timeout', `workflow ${id} did not finish within ${o.timeout ?? 0}s`);
        printOne(ctx.output, view, view.id, () => ctx.output.out(`workflow ${view.id}: ${view.status}\n`));
        return exitFor(view);
      }),
    );

  workflows
    .command('resubmit')
    .description('submit a run again as a new run: the same workflow.yaml and code files, as they were submitted')
    .argument('<id>', 'workflow id')
    .option('-w, --watch', 'follow the new run until it ends; exit 1 unless it succeeds')
    .option('-q, --quiet', 'without --watch, print only the new workflow id')
    .action(
      action(async (ctx, id: string, o: { watch?: boolean; quiet?: boolean }) => {
        const accepted = await ctx.client.json('POST', 'workflows', api.workflowAccepted, { body: await submittedAs(ctx.client, id) });
        if (o.watch !== true) {
          if (ctx.output.structured) return printData(ctx.output, { ...accepted, resubmittedFrom: id });
          return ctx.output.out(o.quiet === true ? `${accepted.id}\n` : `resubmitted ${id} as workflow ${accepted.id}\n`);
        }
        if (!ctx.output.structured) ctx.output.out(`resubmitted ${id} as workflow ${accepted.id}\n`);
        const view = await watchWorkflow(ctx.client, accepted.id, ctx.output);
        if (ctx.output.structured) printData(ctx.output, view);
        return exitFor(view);
      }),
    );

  workflows
    .command('cancel')
    .description('stop a run (exit 4 when it has already finished)')
    .argument('<id>', 'workflow id')
    .action(
      action(async (ctx, id: string) => {
        await ctx.client.empty('POST', `${runPath(id)}/cancel`);
        if (ctx.output.structured) return printData(ctx.output, { id, cancelRequested: true });
        ctx.output.out(`cancel requested for ${id}\n`);
      }),
    );

  workflows
    .command('delete')
    .description('purge a finished run now: workspace, logs and durable state (the ledger keeps its records; exit 4 while it runs)')
    .argument('<id>', 'workflow id')
    .action(
      action(async (ctx, id: string) => {
        const deleted = await ctx.client.json('DELETE', runPath(id), api.workflowDeleted);
        if (ctx.output.structured) return printData(ctx.output, deleted);
        ctx.output.out(`deleted ${id} (${deleted.instances} durable instances, ${deleted.messages} queue messages)\n`);
      }),
    );

  addLogsCommand(workflows);

  workflows
    .command('download')
    .description("a result file from the run's workspace (to stdout, or -o)")
    .argument('<id>', 'workflow id')
    .argument('<path>', 'path in the workspace, e.g. result.txt')
    .option('-o, --output <file>', 'write to this file')
    .action(
      action(async (ctx, id: string, path: string, o: { output?: string }) => {
        const content = await ctx.client.bytes('GET', `${runPath(id)}/files/${encodePath(path)}`);
        if (o.output !== undefined) {
          writeFileSync(o.output, content);
          if (ctx.output.structured) return printData(ctx.output, { workflowId: id, path, size: content.length, savedTo: o.output });
          return ctx.output.out(`saved ${path} (${content.length} bytes) to ${o.output}\n`);
        }
        if (ctx.output.structured) return printData(ctx.output, { workflowId: id, path, size: content.length, content: content.toString('utf8') });
        process.stdout.write(content);
      }),
    );

  workflows
    .command('receipt')
    .description('every ledger transaction of a run, with its block number (to stdout, or -o); check it with `ledgerflow receipt verify`')
    .argument('<id>', 'workflow id')
    .option('-o, --output <file>', 'write to this file')
    .action(
      action(async (ctx, id: string, o: { output?: string }) => {
        const receipt = await ctx.client.json('GET', `${runPath(id)}/receipt`, api.workflowReceipt);
        const text = `${JSON.stringify(receipt, null, 2)}\n`;
        if (o.output === undefined) return ctx.output.out(text);
        writeFileSync(o.output, text);
        if (ctx.output.structured) return printData(ctx.output, { workflowId: id, transactions: receipt.transactions.length, savedTo: o.output });
        ctx.output.out(`saved the receipt of ${id} (${receipt.transactions.length} ledger writes) to ${o.output}\n`);
      }),
    );

  addResultsCommands(workflows);
  return workflows;
}
