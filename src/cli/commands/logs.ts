import type { Command } from 'commander';
import * as api from '../../api/schemas';
import type { ApiClient } from '../client';
import { action, formatOption, type Context } from '../context';
import { CliError, EXIT, type ExitCode } from '../exitCodes';
import { parsePositiveInt } from '../parse';
import { exitFor, FINISHED } from '../watch';

/**
 * `ledgerflow workflows logs <id> [job] [-f] [--tail N] [-o json]`: a job's output, or every
 * started job's. Following reads only what is new (a Range from where the last read ended),
 * and `--tail` is answered by the server from the log's end, so neither costs more on a huge
 * log. With `-o json` each line is one JSON object on its own line (JSON lines), also while
 * following.
 */
interface LogOptions {
  follow?: boolean;
  tail?: number;
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

  private line(line: string): void {
    if (this.ctx.output.structured) this.ctx.output.out(`${JSON.stringify({ workflowId: this.id, job: this.job, line })}\n`);
    else this.ctx.output.out(`[${this.job}] ${line}\n`);
  }
}

async function logs(ctx: Context, id: string, job: string | undefined, o: LogOptions): Promise<ExitCode> {
  const follow = o.follow === true;
  const printers = new Map<string, JobPrinter>();
  for (;;) {
    const view = await ctx.client.json('GET', runPath(id), api.workflowView);
    if (job !== undefined && !view.jobs.some((j) => j.name === job))
      throw new CliError(EXIT.notFound, 'not_found', `workflow ${id} has no job ${job} (jobs: ${view.jobs.map((j) => j.name).join(', ')})`);
    const names = job === undefined ? view.jobs.filter((j) => j.status !== 'Pending' && j.status !== 'Skipped').map((j) => j.name) : [job];
    for (const name of names) {
      const printer = printers.get(name) ?? new JobPrinter(ctx, id, name, job === undefined && follow);
      printers.set(name, printer);
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
    .addOption(formatOption(['json'], 'json: JSON lines, one {workflowId, job, line} object a line (--json is -o json)'))
    .action(action(async (ctx, id: string, job: string | undefined, o: LogOptions) => logs(ctx, id, job, o)));
}
