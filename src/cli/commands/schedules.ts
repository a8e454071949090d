import { Command, Option } from 'commander';
import * as api from '../../api/schemas';
import { action, formatOption, type Context } from '../context';
import { usageError } from '../exitCodes';
import { fields, printOne, printRows, table, who } from '../output';
import { addWorkflowFileOptions, readWorkflowSubmission, type RunOptions } from './workflows';

/** `ledgerflow schedules create|list|show|enable|disable|delete`: workflows that run on an
 * NCRONTAB schedule or on each new version of a dataset, as their creator (docs/schedules.md). */

const path = (id: string) => `schedules/${encodeURIComponent(id)}`;

function showSchedule(ctx: Context, s: api.Schedule): void {
  printOne(ctx.output, s, s.id, () => {
    ctx.output.out(
      fields([
        ['id', s.id],
        ['name', s.name],
        ['creator', who(s.creator)],
        ['runs', s.schedule !== undefined ? `on ${s.schedule} (UTC)` : `on each new version of dataset ${s.trigger?.datasetUpdated ?? '?'}`],
        ['enabled', s.enabled ? 'yes' : 'no'],
        ['overlap', s.options.overlap],
        ['next run', s.nextRunAt ?? '-'],
        ['created', s.createdAt],
      ]),
    );
    if (s.runs.length === 0) return ctx.output.out('\nno runs yet\n');
    ctx.output.out('\n');
    ctx.output.out(
      table(s.runs, [
        ['TICK', (r) => r.tick ?? (r.version === undefined ? '-' : `version ${r.version}`)],
        ['WORKFLOW', (r) => r.workflowId ?? '-'],
        ['STATUS', (r) => r.status],
        ['REASON', (r) => r.reason ?? ''],
      ]),
    );
  });
}

export function schedulesCommand(): Command {
  const schedules = new Command('schedules').description('run a workflow on a schedule or when a dataset gets a new version');

  addWorkflowFileOptions(
    schedules
      .command('create')
      .description('create a schedule (--cron, six-field NCRONTAB in UTC) or a data trigger (--on-update <datasetId>) for a workflow.yaml'),
  )
    .option('--cron <ncrontab>', 'e.g. "0 */15 * * * *": every 15 minutes ({second} {minute} {hour} {day} {month} {day-of-week})')
    .option('--on-update <datasetId>', 'run once per new version of this dataset')
    .option('--name <name>', "the schedule's name (default: the workflow file's name)")
    .addOption(new Option('--overlap <mode>', 'skip (default): a tick while the previous run has not ended is recorded, not run').choices(['skip', 'allow']))
    .option('--disabled', 'create it disabled (enable it later)')
    .option('--release-leases', "release each run's leases once it is cleaned up")
    .action(
      action(
        async (
          ctx,
          o: RunOptions & { cron?: string; onUpdate?: string; name?: string; overlap?: 'skip' | 'allow'; disabled?: boolean; releaseLeases?: boolean },
        ) => {
          if ((o.cron === undefined) === (o.onUpdate === undefined)) throw usageError('give exactly one of --cron and --on-update');
          const { workflow, files } = readWorkflowSubmission(o);
          const body = {
            name: o.name ?? (o.file === '-' ? 'workflow.yaml' : o.file.replace(/^.*[\\/]/, '')),
            workflow,
            files,
            ...(o.cron !== undefined && { schedule: o.cron }),
            ...(o.onUpdate !== undefined && { trigger: { datasetUpdated: o.onUpdate } }),
            enabled: o.disabled !== true,
            options: { overlap: o.overlap ?? 'skip', releaseLeases: o.releaseLeases === true },
          };
          showSchedule(ctx, await ctx.client.json('POST', 'schedules', api.schedule, { body }));
        },
      ),
    );

  schedules
    .command('list')
    .description("your organization's schedules, newest first")
    .addOption(formatOption())
    .action(
      action(async (ctx) => {
        const page = await ctx.client.json('GET', 'schedules', api.schedulePage);
        printRows(
          ctx.output,
          page,
          page.items,
          {
            columns: [
              ['ID', (s) => s.id],
              ['NAME', (s) => s.name],
              ['ON', (s) => s.schedule ?? `update of ${s.trigger?.datasetUpdated ?? '?'}`],
              ['ENABLED', (s) => (s.enabled ? 'yes' : 'no')],
              ['NEXT', (s) => s.nextRunAt ?? '-'],
              ['LAST', (s) => (s.runs[0] === undefined ? '-' : `${s.runs[0].status}${s.runs[0].reason === undefined ? '' : `: ${s.runs[0].reason}`}`)],
            ],
            wide: [
              ['CREATOR', (s) => who(s.creator)],
              ['OVERLAP', (s) => s.options.overlap],
              ['CREATED', (s) => s.createdAt],
            ],
            name: (s) => s.id,
          },
          'no schedules',
        );
      }),
    );

  schedules
    .command('show')
    .description('a schedule and its recorded ticks, newest first')
    .argument('<id>', 'schedule id')
    .addOption(formatOption())
    .action(action(async (ctx, id: string) => showSchedule(ctx, await ctx.client.json('GET', path(id), api.schedule))));

  for (const [name, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    schedules
      .command(name)
      .description(enabled ? 'start ticking again (ticks missed while disabled are not run)' : 'stop ticking until enabled')
      .argument('<id>', 'schedule id')
      .action(action(async (ctx, id: string) => showSchedule(ctx, await ctx.client.json('PATCH', path(id), api.schedule, { body: { enabled } }))));
  }

  schedules
    .command('delete')
    .description('delete a schedule (the runs it submitted are kept)')
    .argument('<id>', 'schedule id')
    .action(
      action(async (ctx, id: string) => {
        await ctx.client.empty('DELETE', path(id));
        if (!ctx.output.structured) ctx.output.out(`deleted schedule ${id}\n`);
      }),
    );

  return schedules;
}
