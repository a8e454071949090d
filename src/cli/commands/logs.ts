import type { Command } from 'commander';
import * as api from '../../api/schemas';
import { parseRfc3339Nanos } from '../../core/logTimes';
import type { ApiClient } from '../client';
import { action, formatOption, type Context } from '../context';
import { CliError, EXIT, type ExitCode } from '../exitCodes';
import { parsePositiveInt, parseSince } from '../parse';
import { exitFor, FINISHED } from '../watch';

/**
 * `ledgerflow workflows logs <id> [job] [-f] [--tail N] [--since 5m] [--timestamps] [-o json]`:
 * a job's output, or every started job's. Following reads only what is new (a Range from where
 * the last read ended), and `--tail` is answered by the server from the log's end, so neither
 * costs more on a huge log. With `-o json` each line is one JSON object on its own line (JSON
 * lines), also while following.
 *
 * With `--since` or `--timestamps` the server answers lines with their times, which a Range
 * cannot address: every read asks for the times, and a follower reads on with `since=<the
 * last time it printed>`, skipping the lines of that time it has printed already (a line's
 * time never changes between reads, see ComputeBackend.timedLog). Without `--timestamps` the
 * times are dropped again.
 */
interface LogOptions {
  follow?: boolean;
  tail?: number;
  since?: string;
  timestamps?: boolean;
}

const runPath = (id: string) => `workflows/${encodeURIComponent(id)}`;

/** What is new in a job's log from byte `from` (the whole log or its tail on the first read);
 * undefined when there is nothing yet: the job has not started, or nothing was added. */
async function readLog(
  client: ApiClient,
  id: string,
  job: string,
  from: number | undefined,
  tail: number | undefined,
): Promise<{ bytes: Buffer; end: number } | undefined> {
  let response: Response;
  try {
    response = await client.send(
      'GET',
      `${runPath(id)}/jobs/${encodeURIComponent(job)}/logs`,
      from === undefined ? { query: { tail } } : { headers: { range: `bytes=${from}-` } },
    );
  } catch (err) {
    // 404: the job has not started; 416: the log has not grown since `from`.
    if (err instanceof CliError && (err.exitCode === EXIT.notFound || err.code === 'http_416')) return undefined;
    throw err;
  }
  const bytes = Buffer.from(await response.arrayBuffer());
  const range = /^bytes (\d+)-\d+\/\d+$/.exec(response.headers.get('content-range') ?? '');
  const start = range === null ? 0 : Number(range[1]);
  // A server that ignores the Range sends the whole log again: skip what was printed.
  const skip = from === undefined ? 0 : Math.max(0, from - start);
  return { bytes: bytes.subarray(skip), end: start + bytes.length };
}

/** Where a follower with times is: the last time printed and how many lines had it. */
interface TimedCursor {
  time: string;
  nanos: bigint;
  seen: number;
}

/** The new lines of a job's log as the server times them (`<RFC 3339> <line>` each), from
 * `cursor` on (or `since`/`tail` on the first read); undefined when the job has not started. */
async function readTimed(
  client: ApiClient,
  id: string,
  job: string,
  cursor: TimedCursor | undefined,
  o: LogOptions,
): Promise<{ time: string; nanos: bigint; line: string }[] | undefined> {
  const query = cursor === undefined ? { timestamps: 'true', since: o.since, tail: o.tail } : { timestamps: 'true', since: cursor.time };
  let response: Response;
  try {
    response = await client.send('GET', `${runPath(id)}/jobs/${encodeURIComponent(job)}/logs`, { query });
  } catch (err) {
    if (err instanceof CliError && err.exitCode === EXIT.notFound) return undefined;
    throw err;
  }
  const lines = (await response.text()).split('\n').slice(0, -1);
  const timed = lines.map((l) => {
    const space = l.indexOf(' ');
    const time = l.slice(0, space);
    return { time, nanos: parseRfc3339Nanos(time) ?? 0n, line: l.slice(space + 1) };
  });
  if (cursor === undefined) return timed;
  let skip = cursor.seen;
  return timed.filter((l) => l.nanos > cursor.nanos || (l.nanos === cursor.nanos && skip-- <= 0));
}

/** Prints one job's text: raw for one named job, else line by line (prefixed for people, as
 * JSON lines for scripts), holding a partial last line until it ends or the log does. */
class JobPrinter {
  private readonly decoder = new TextDecoder();
  private partial = '';
  offset: number | undefined;

  constructor(
    private readonly ctx: Context,
    private readonly id: string,
    private readonly job: string,
    private readonly prefixed: boolean,
  ) {}

  write(bytes: Buffer): void {
    const text = this.decoder.decode(bytes, { stream: true });
    if (!this.ctx.output.structured && !this.prefixed) return this.ctx.output.out(text);
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  flush(): void {
    const rest = this.partial + this.decoder.decode();
    this.partial = '';
    if (rest === '') return;
    if (!this.ctx.output.structured && !this.prefixed) return this.ctx.output.out(rest);
    this.line(rest);
  }

  /** One line the server timed; the time is printed (a prefix, or `time` in JSON) only when
   * asked for. */
  timed(time: string | undefined, line: string): void {
    if (this.ctx.output.structured)
      this.ctx.output.out(`${JSON.stringify({ workflowId: this.id, job: this.job, line, ...(time !== undefined && { time }) })}\n`);
    else this.ctx.output.out(`${this.prefixed ? `[${this.job}] ` : ''}${time === undefined ? '' : `${time} `}${line}\n`);
  }

  private line(line: string): void {
    this.timed(undefined, line);
  }
}

async function logs(ctx: Context, id: string, job: string | undefined, o: LogOptions): Promise<ExitCode> {
  const follow = o.follow === true;
  const printers = new Map<string, JobPrinter>();
  const timed = o.since !== undefined || o.timestamps === true;
  const cursors = new Map<string, TimedCursor>();
  for (;;) {
    const view = await ctx.client.json('GET', runPath(id), api.workflowView);
    if (job !== undefined && !view.jobs.some((j) => j.name === job))
      throw new CliError(EXIT.notFound, 'not_found', `workflow ${id} has no job ${job} (jobs: ${view.jobs.map((j) => j.name).join(', ')})`);
    const names = job === undefined ? view.jobs.filter((j) => j.status !== 'Pending' && j.status !== 'Skipped').map((j) => j.name) : [job];
    for (const name of names) {
      const printer = printers.get(name) ?? new JobPrinter(ctx, id, name, job === undefined && follow);
      printers.set(name, printer);
      if (timed) {
        const lines = await readTimed(ctx.client, id, name, cursors.get(name), o);
        if (lines === undefined) continue;
        if (!follow && job === undefined && !ctx.output.structured) ctx.output.out(`==> ${name} <==\n`);
        for (const l of lines) printer.timed(o.timestamps === true ? l.time : undefined, l.line);
        const last = lines.at(-1);
        if (last !== undefined) {
          const before = cursors.get(name);
          const same = lines.filter((l) => l.nanos === last.nanos).length;
          cursors.set(name, { time: last.time, nanos: last.nanos, seen: same + (before?.nanos === last.nanos ? before.seen : 0) });
        }
        continue;
      }
      const read = await readLog(ctx.client, id, name, printer.offset, o.tail);
      if (read === undefined) continue;
      // All jobs at once, for people: each job's whole log under its name, as `tail` does.
      if (!follow && job === undefined && !ctx.output.structured) ctx.output.out(`==> ${name} <==\n`);
      printer.write(read.bytes);
      printer.offset = read.end;
      if (!follow) {
        printer.flush();
        if (job === undefined && !ctx.output.structured && !read.bytes.toString('utf8').endsWith('\n') && read.bytes.length > 0) ctx.output.out('\n');
      }
    }
    if (!follow) return EXIT.ok;
    if (FINISHED.has(view.status)) {
      for (const printer of printers.values()) printer.flush();
      return exitFor(view);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export function addLogsCommand(workflows: Command): void {
  workflows
    .command('logs')
    .description("a job's output (all started jobs when no job is named)")
    .argument('<id>', 'workflow id')
    .argument('[job]', 'job name (job-<n> when the spec names none)')
    .option('-f, --follow', 'print new output until the run ends (exit 1 unless it succeeds)')
    .option('--tail <n>', 'only the last n lines of each log', parsePositiveInt)
    .option('--since <when>', 'only lines written in the last duration (5m, 2h) or since an RFC 3339 time', parseSince)
    .option('--timestamps', 'prefix each line with the time it was written (RFC 3339, nanoseconds; a `time` field with -o json)')
    .addOption(formatOption(['json'], 'json: JSON lines, one {workflowId, job, line} object a line, and time with --timestamps (--json is -o json)'))
    .action(action(async (ctx, id: string, job: string | undefined, o: LogOptions) => logs(ctx, id, job, o)));
}
