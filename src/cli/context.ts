import type { Command } from 'commander';
import { ApiClient } from './client';
import { resolveConfig, type ResolvedConfig } from './config';
import type { ExitCode } from './exitCodes';
import { processOutput, type Output } from './output';

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

export function contextOf(command: Command): Context {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const config = resolveConfig({ endpoint: globals.endpoint, token: globals.token });
  return { config, client: new ApiClient(config.endpoint, config.token), output: processOutput(globals.json === true) };
}

/** A command's body: resolves with its exit code (default 0); throws CliError to fail. */
export type Handler<A extends unknown[]> = (ctx: Context, ...args: A) => Promise<ExitCode | void>;

/** The last exit code a command resolved with; main.ts exits with it. */
export const outcome = { exitCode: 0 as number };

/** Adapts a handler to commander's action signature (positional args, options, command). */
export function action<A extends unknown[]>(handler: Handler<A>): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const code = await handler(contextOf(command), ...(args.slice(0, -1) as A));
    outcome.exitCode = typeof code === 'number' ? code : 0;
  };
}
