import { Option, type Command } from 'commander';
import { ApiClient } from './client';
import { resolveConfig, type ResolvedConfig } from './config';
import { usageError, type ExitCode } from './exitCodes';
import { OUTPUT_FORMATS, processOutput, type Output, type OutputFormat } from './output';

/** What every command gets: the configured client and where to print. */
export interface Context {
  readonly config: ResolvedConfig;
  readonly client: ApiClient;
  readonly output: Output;
}

interface GlobalOptions {
  endpoint?: string;
  token?: string;
  json?: boolean;
}

/** The `-o` options that name an output format (download's `-o <file>` names a file). */
const formatOptions = new WeakSet<Option>();

/** `-o, --output <format>` for a read verb; `formats` narrows the choices where some make
 * no sense (a log has no columns). */
export function formatOption(formats: readonly OutputFormat[] = OUTPUT_FORMATS, description = 'output format for scripts (--json is -o json)'): Option {
  const option = new Option('-o, --output <format>', description).choices(formats);
  formatOptions.add(option);
  return option;
}

function formatOf(command: Command, json: boolean): OutputFormat {
  const option = command.options.find((o) => formatOptions.has(o));
  const chosen = option === undefined ? undefined : (command.getOptionValue(option.attributeName()) as OutputFormat | undefined);
  if (json && chosen !== undefined && chosen !== 'json') throw usageError(`--json and -o ${chosen} ask for different outputs: give one`);
  return json ? 'json' : (chosen ?? 'table');
}

export function contextOf(command: Command): Context {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const format = formatOf(command, globals.json === true);
  outcome.format = format;
  const config = resolveConfig({ endpoint: globals.endpoint, token: globals.token });
  return { config, client: new ApiClient(config.endpoint, config.token), output: processOutput(format) };
}

/** A command's body: resolves with its exit code (default 0); throws CliError to fail. */
export type Handler<A extends unknown[]> = (ctx: Context, ...args: A) => Promise<ExitCode | void>;

/** The last exit code a command resolved with, which main.ts exits with, and the output
 * format it asked for, which its error is printed in. */
export const outcome = { exitCode: 0 as number, format: 'table' as OutputFormat };

/** Adapts a handler to commander's action signature (positional args, options, command). */
export function action<A extends unknown[]>(handler: Handler<A>): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const code = await handler(contextOf(command), ...(args.slice(0, -1) as A));
    outcome.exitCode = typeof code === 'number' ? code : 0;
  };
}
