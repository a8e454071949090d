import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { adminCommand } from './commands/admin';
import { approvalsCommand } from './commands/approvals';
import { completionCommand } from './commands/completion';
import { configCommand } from './commands/config';
import { datasetsCommand } from './commands/datasets';
import { demoCommand } from './commands/demo';
import { historyCommand, leaseCommand } from './commands/leases';
import { ledgerCommand } from './commands/ledger';
import { receiptCommand } from './commands/receipt';
import { renderCommand } from './commands/render';
import { schedulesCommand } from './commands/schedules';
import { workflowsCommand } from './commands/workflows';
import { outcome } from './context';
import { LedgerflowError } from '../core/errors';
import { CliError, EXIT, EXIT_CODES_HELP, exitCodeForStatus } from './exitCodes';
import { serialize } from './output';

/** The `ledgerflow` command line: global options, the command tree, and how every way of
 * ending becomes one exit code. */
const version = (JSON.parse(readFileSync(resolve(__dirname, '../../../package.json'), 'utf8')) as { version: string }).version;

const CONFIG_HELP = `Configuration (first found wins):
  endpoint  --endpoint, LEDGERFLOW_ENDPOINT, config file, default http://127.0.0.1:7071/api
  token     --token, LEDGERFLOW_TOKEN, config file
  config file: $LEDGERFLOW_CONFIG, else ~/.config/ledgerflow/config.json (ledgerflow config set ...)`;

export function buildProgram(): Command {
  const program = new Command('ledgerflow')
    .description('Register datasets, lease them on the ledger, and run workflows beside the data.')
    .version(version)
    .option('--endpoint <url>', 'API base URL (e.g. http://127.0.0.1:7071/api)')
    .option('--token <token>', 'bearer token')
    .option('--json', 'print JSON for scripts instead of tables (the same as -o json)')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', `\n${CONFIG_HELP}\n\n${EXIT_CODES_HELP}\n`)
    .exitOverride();
  for (const command of [
    datasetsCommand(),
    leaseCommand(),
    workflowsCommand(),
    approvalsCommand(),
    schedulesCommand(),
    historyCommand(),
    renderCommand(),
    ledgerCommand(),
    receiptCommand(),
    adminCommand(),
    configCommand(),
    completionCommand(),
    demoCommand(),
  ]) {
    program.addCommand(command);
  }
  // addCommand does not copy inherited settings: every level must throw instead of exiting.
  const override = (c: Command) => {
    c.exitOverride();
    c.commands.forEach(override);
  };
  override(program);
  return program;
}

/** One line on stderr; with -o json|yaml, also the API's error document on stdout. */
function printError(err: CliError): void {
  process.stderr.write(`error: ${err.code}: ${err.message}\n`);
  for (const d of err.details) process.stderr.write(`  ${d.path}: ${d.message}\n`);
  const { format } = outcome;
  if (format === 'json' || format === 'yaml')
    process.stdout.write(
      serialize(format, { error: { ...err.data, code: err.code, message: err.message, ...(err.details.length > 0 ? { details: err.details } : {}) } }),
    );
}

/** Runs the CLI; resolves with the exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return outcome.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
      // Commander has printed its message (unknown command, missing argument, bad value).
      return EXIT.usage;
    }
    if (err instanceof CliError) {
      printError(err);
      return err.exitCode;
    }
    // Code shared with the server (settings, the spec parser) throws LedgerflowErrors.
    if (err instanceof LedgerflowError) {
      printError(new CliError(exitCodeForStatus(err.httpStatus), err.code, err.message, err.details ?? []));
      return exitCodeForStatus(err.httpStatus);
    }
    printError(new CliError(EXIT.failure, 'internal', err instanceof Error ? err.message : String(err)));
    return EXIT.failure;
  }
}
