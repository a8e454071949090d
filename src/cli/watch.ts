import * as api from '../api/schemas';
import type { ApiClient } from './client';
import { EXIT, type ExitCode } from './exitCodes';
import { duration, table, type Column, type Output } from './output';

/**
 * Live progress of a run: each job's state and duration, redrawn in place on a terminal,
 * or one plain line per change when stdout is a file or a pipe (logs stay readable).
 */
export const FINISHED: ReadonlySet<string> = new Set(['Succeeded', 'Failed', 'Canceled', 'Rejected']);

/** 0 when the run succeeded, 1 when it ended otherwise (failed, canceled, rejected). */
export const exitFor = (view: api.WorkflowView): ExitCode => (view.status === 'Succeeded' ? EXIT.ok : EXIT.failure);

export interface WatchOptions {
  readonly intervalMs?: number;
  readonly now?: () => number;
}

/** A run's message may carry a whole error report; progress shows its first line. */
const note = (message: string | undefined) => (message === undefined ? '' : ` (${message.split('\n')[0]?.trim() ?? ''})`);

function jobDuration(job: api.JobView, now: number): string {
  if (job.startedAt === null) return '';
  const end = job.endedAt === null ? now : Date.parse(job.endedAt);
  return duration(end - Date.parse(job.startedAt));
}

/** Who a run waits for, while it waits. */
function awaiting(view: api.WorkflowView): string {
  if (view.status !== 'AwaitingApproval' || view.approvals === undefined) return '';
  const pending = view.approvals.filter((a) => a.state === 'pending').map((a) => a.owner);
  return pending.length === 0 ? '' : ` (waiting for ${pending.join(', ')} to approve: ledgerflow approvals show ${view.id})`;
}

/** The run and a row per job; `wide` adds when each job started and ended, and its message. */
export function progressTable(view: api.WorkflowView, now: number, wide = false): string {
  const head = `workflow ${view.id}: ${view.status}${note(view.message)}${awaiting(view)}\n`;
  const columns: Column<api.JobView>[] = [
    ['#', (j) => String(j.index)],
    ['JOB', (j) => j.name],
    ['STATE', (j) => j.status],
    ['TIME', (j) => jobDuration(j, now)],
    ['EXIT', (j) => (j.exitCode === null ? '' : String(j.exitCode))],
    ['TRIES', (j) => (j.attempts > 1 ? String(j.attempts) : '')],
  ];
  if (wide) columns.push(['STARTED', (j) => j.startedAt ?? ''], ['ENDED', (j) => j.endedAt ?? ''], ['MESSAGE', (j) => (j.message ?? '').split('\n')[0] ?? '']);
  return head + table(view.jobs, columns);
}

/** Polls until the run finishes; resolves with its last view. */
export async function watchWorkflow(client: ApiClient, id: string, output: Output, options: WatchOptions = {}): Promise<api.WorkflowView> {
  const interval = options.intervalMs ?? 500;
  const now = options.now ?? Date.now;
  const seen = new Map<string, string>();
  let drawnLines = 0;
  for (;;) {
    const view = await client.json('GET', `workflows/${encodeURIComponent(id)}`, api.workflowView);
    if (!output.structured) {
      if (output.isTTY) {
        // Lines cut to the terminal's width: a wrapped line would throw off the redraw.
        const width = Math.max((output.columns ?? Infinity) - 1, 20);
        const frame = progressTable(view, now())
          .split('\n')
          .map((line) => line.slice(0, width))
          .join('\n');
        // Cursor up over the last frame, clear to the end of the screen, draw again.
        output.out(`${drawnLines > 0 ? `\x1b[${drawnLines}A\r\x1b[J` : ''}${frame}`);
        drawnLines = frame.split('\n').length - 1;
      } else {
        const stamp = new Date(now()).toISOString().slice(11, 19);
        const changed = (key: string, status: string) => seen.get(key) !== status && (seen.set(key, status), true);
        for (const j of view.jobs) {
          if (!changed(`job ${j.index}`, j.status)) continue;
          const ended = j.endedAt !== null ? ` after ${jobDuration(j, now())}` : '';
          const exit = j.exitCode === null ? '' : ` (exit ${j.exitCode})`;
          output.out(`${stamp} job ${j.index} ${j.name}: ${j.status}${ended}${exit}\n`);
        }
        if (changed('workflow', `${view.status}${awaiting(view)}`)) {
          output.out(`${stamp} workflow ${view.id}: ${view.status}${note(view.message)}${awaiting(view)}\n`);
        }
      }
    }
    if (FINISHED.has(view.status)) return view;
    await new Promise((r) => setTimeout(r, interval));
  }
}
