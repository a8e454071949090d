import { resolve } from 'node:path';
import { Command } from 'commander';
import { parseSettings } from '../../config/settings';
import { verifyLedger } from '../../ledger-peer/verify';
import { addOrg, BroadcastError } from '../../ledger-peer/addOrg';
import { action } from '../context';
import { CliError, EXIT } from '../exitCodes';
import { fields, printJson } from '../output';

/**
 * `ledgerflow ledger verify [--data-dir <dir>]`: checks the embedded ledger of a data dir
 * (hash chain, transaction order, validation codes, world state, key history) from one read snapshot,
 * whether its host runs or not. Exit 0 when sound, 1 with the first bad block otherwise.
 * `ledgerflow ledger add-org <org>`: adds an organization to the channel (ledger-peer/addOrg.ts).
 */
export function ledgerCommand(): Command {
  const ledger = new Command('ledger').description('the embedded ledger of a data dir');
  ledger
    .command('verify')
    .description('verify the embedded ledger: hash chain, transaction order, validation codes, world state, key history (host running or not)')
    .option('--data-dir <dir>', 'the data dir (default LEDGERFLOW_DATA_DIR, else the default data dir)')
    .action(
      action(async (ctx, o: { dataDir?: string }) => {
        const settings = parseSettings(process.env);
        const dataDir = resolve(o.dataDir ?? settings.LEDGERFLOW_DATA_DIR);
        // Transactions are replayed against the policy the peer endorses with.
        const result = verifyLedger(dataDir, { endorsementPolicy: settings.LEDGER_ENDORSEMENT_POLICY });
        if (ctx.output.json) printJson(ctx.output, result);
        else {
          ctx.output.out(
            fields([
              ['ledger', result.ok ? 'ok' : 'BAD'],
              ['blocks', String(result.blocks)],
              ['transactions', String(result.transactions)],
              ...(result.badBlock === undefined ? [] : [['bad block', String(result.badBlock)] as const]),
              ...(result.problem === undefined ? [] : [['problem', result.problem] as const]),
            ]),
          );
        }
        return result.ok ? EXIT.ok : EXIT.failure;
      }),
    );
  ledger
    .command('add-org')
    .description("add an organization to the embedded ledger's channel: a config update signed by admins of a majority of its organizations")
    .argument('<org>', 'the organization (its CA is created in the data dir if absent)')
    .option('--data-dir <dir>', 'the data dir (default LEDGERFLOW_DATA_DIR, else the default data dir)')
    .option('--signer <org...>', 'the organizations whose admins sign (default: a majority, in MSP id order)')
    .action(
      action(async (ctx, org: string, o: { dataDir?: string; signer?: string[] }) => {
        const dataDir = resolve(o.dataDir ?? parseSettings(process.env).LEDGERFLOW_DATA_DIR);
        const result = await addOrg(dataDir, org, o.signer === undefined ? {} : { signers: o.signer }).catch((err: unknown) => {
          const message = err instanceof Error ? err.message : String(err);
          throw new CliError(EXIT.failure, err instanceof BroadcastError ? 'config_update_refused' : 'add_org_failed', message);
        });
        if (ctx.output.json) printJson(ctx.output, result);
        else {
          ctx.output.out(
            fields([
              ['organizations', result.orgs.join(', ')],
              ['config sequence', String(result.sequence)],
              ['signed by admins of', result.signedBy.join(', ')],
            ]),
          );
        }
        return EXIT.ok;
      }),
    );
  return ledger;
}
