import { writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Command, Option } from 'commander';
import * as api from '../../api/schemas';
import { encodePath, type ApiClient } from '../client';
import { action, type Context } from '../context';
import { CliError, EXIT, type ExitCode } from '../exitCodes';
import { DEFAULT_MAX_UPLOAD_BYTES, workflowFiles } from '../localFiles';
import { duration, printData, table, type Output } from '../output';
import { collect, collectBinding } from '../parse';
import { loadWorkflow } from '../workflowFile';
import { addResultsCommands } from './results';
import { FINISHED, progressTable, watchWorkflow } from '../watch';

/** `ledgerflow workflows run|list|status|cancel|delete|logs|download|receipt|results|release|reject`. */

const runPath = (id: string) => `workflows/${encodeURIComponent(id)}`;

export interface RunOptions {
  file: string;
  dataset?: Record<string, string>;
  include?: string[];
  allFiles?: boolean;
  maxBytes?: number;
}

/** Reads the workflow and its code files and submits them; resolves with the run id. */
export async function submitWorkflow(client: ApiClient, o: RunOptions): Promise<{ accepted: api.WorkflowAccepted; files: string[] }> {
  const workflow = loadWorkflow(o.file, o.dataset ?? {});
  const files = workflowFiles(dirname(o.file), workflow.commands, o.file, {
    ...(o.include === undefined ? {} : { include: o.include }),
    ...(o.allFiles === undefined ? {} : { all: o.allFiles }),
    ...(o.maxBytes === undefined ? {} : { maxBytes: o.maxBytes }),
  });
  const accepted = await client.json('POST', 'workflows', api.workflowAccepted, { body: { workflow: workflow.text, files } });
  return { accepted, files: Object.keys(files) };
}

/** 0 when the run succeeded, 1 when it failed or was canceled. */
export const exitFor = (view: api.WorkflowView): ExitCode => (view.status === 'Succeeded' ? EXIT.ok : EXIT.failure);

function printView(output: Output, view: api.WorkflowView): void {
  if (output.structured) printData(output, view);
  else output.out(progressTable(view, Date.now()));
}

/** A job's output (the route answers text/plain). */
async function jobLogs(client: ApiClient, id: string, job: string): Promise<string> {
  return (await client.bytes('GET', `${runPath(id)}/jobs/${encodeURIComponent(job)}/logs`)).toString('utf8');
}

/** Logs of the named job, or of every started job; `--follow` prints new output as it
 * comes until the run finishes. */
async function logs(ctx: Context, id: string, job: string | undefined, follow: boolean): Promise<ExitCode> {
  const printed = new Map<string, number>();
  for (;;) {
    const view = await ctx.client.json('GET', runPath(id), api.workflowView);
    const names = job === undefined ? view.jobs.filter((j) => j.status !== 'Pending' && j.status !== 'Skipped').map((j) => j.name) : [job];
    if (job !== undefined && !view.jobs.some((j) => j.name === job))
      throw new CliError(EXIT.notFound, 'not_found', `workflow ${id} has no job ${job} (jobs: ${view.jobs.map((j) => j.name).join(', ')})`);
    const collected: Record<string, string> = {};
    for (const name of names) {
      try {
        collected[name] = await jobLogs(ctx.client, id, name);
      } catch (err) {
        // A job that has not started has no logs yet.
        if (!(err instanceof CliError && err.exitCode === EXIT.notFound)) throw err;
      }
    }
    if (!follow) {
      if (ctx.output.structured) printData(ctx.output, { workflowId: id, logs: collected });
      else
        for (const [name, text] of Object.entries(collected))
          ctx.output.out(job === undefined ? `==> ${name} <==\n${text}${text.endsWith('\n') || text === '' ? '' : '\n'}` : text);
      return EXIT.ok;
    }
    for (const [name, text] of Object.entries(collected)) {
      const from = printed.get(name) ?? 0;
      if (text.length <= from) continue;
      const fresh = text.slice(from);
      printed.set(name, text.length);
      ctx.output.out(job === undefined ? fresh.replace(/^(?=.)/gm, `[${name}] `) : fresh);
    }
    if (FINISHED.has(view.status)) return exitFor(view);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export function workflowsCommand(): Command {
  const workflows = new Command('workflows').description('run workflows beside leased data and follow them');

  workflows
    .command('run')
    .description(
      'submit a workflow.yaml; uploads the files its commands name (each word of a command that is a file in the ' +
        "yaml's directory, e.g. `python uis.py` uploads uis.py), plus --include, or everything with --all-files",
    )
    .requiredOption('-f, --file <workflow.yaml>', 'the workflow')
    .option('-d, --dataset <name=id>', 'set the dataset id of every volume with this name (repeatable)', collectBinding)
    .option('-i, --include <path>', "also upload this file (relative to the yaml's directory; repeatable)", collect)
    .option('--all-files', "upload every file under the yaml's directory (hidden files skipped)")
    .option('--max-bytes <n>', 'refuse uploads larger than this', (v) => Number(v), DEFAULT_MAX_UPLOAD_BYTES)
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

  workflows
    .command('list')
    .description('runs of your organization, newest first')
    .addOption(new Option('--status <status>', 'only runs in this state').choices(api.workflowStatus.options))
    .option('--limit <n>', 'how many', (v) => Number(v), 20)
    .action(
      action(async (ctx, o: { status?: string; limit: number }) => {
        const page = await ctx.client.json('GET', 'workflows', api.workflowPage, { query: { limit: o.limit, status: o.status } });
        if (ctx.output.structured) return printData(ctx.output, page);
        if (page.items.length === 0) return ctx.output.out('no workflows\n');
        ctx.output.out(
          table(page.items, [
            ['ID', (w) => w.id],
            ['STATUS', (w) => w.status],
            ['JOBS', (w) => `${w.jobs.filter((j) => j.status === 'Succeeded').length}/${w.jobs.length}`],
            ['CREATED', (w) => w.createdAt],
            ['TIME', (w) => duration(Date.parse(w.updatedAt) - Date.parse(w.createdAt))],
          ]),
        );
      }),
    );

  workflows
    .command('status')
    .description('status of a run and of each job; with --watch, follow it (exit 1 unless it succeeds)')
    .argument('<id>', 'workflow id')
    .option('-w, --watch', 'follow the run until it ends')
    .action(
      action(async (ctx, id: string, o: { watch?: boolean }) => {
        if (o.watch !== true) return printView(ctx.output, await ctx.client.json('GET', runPath(id), api.workflowView));
        const view = await watchWorkflow(ctx.client, id, ctx.output);
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

  workflows
    .command('logs')
    .description("a job's output (all started jobs when no job is named)")
    .argument('<id>', 'workflow id')
    .argument('[job]', 'job name (job-<n> when the spec names none)')
    .option('-f, --follow', 'print new output until the run ends')
    .action(action(async (ctx, id: string, job: string | undefined, o: { follow?: boolean }) => logs(ctx, id, job, o.follow === true)));

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
