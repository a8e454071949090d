import { resolve } from 'node:path';
import { Command } from 'commander';
import { parseSettings } from '../../config/settings';
import { verifyLedger } from '../../ledger-peer/verify';
import { action, formatOption } from '../context';
import { EXIT } from '../exitCodes';
import { fields, printData } from '../output';

/**
 * `ledgerflow ledger verify [--data-dir <dir>]`: checks the embedded ledger of a data dir
 * (hash chain, transaction order, validation codes, world state, key history) from one read snapshot,
 * whether its host runs or not. Exit 0 when sound, 1 with the first bad block otherwise.
 */
export function ledgerCommand(): Command {
  const ledger = new Command('ledger').description('the embedded ledger of a data dir');
  ledger
    .command('verify')
    .description('verify the embedded ledger: hash chain, transaction order, validation codes, world state, key history (host running or not)')
    .option('--data-dir <dir>', 'the data dir (default LEDGERFLOW_DATA_DIR, else the default data dir)')
    .addOption(formatOption(['json', 'yaml']))
    .action(
      action(async (ctx, o: { dataDir?: string }) => {
        const dataDir = resolve(o.dataDir ?? parseSettings(process.env).LEDGERFLOW_DATA_DIR);
        const result = verifyLedger(dataDir);
        if (ctx.output.structured) printData(ctx.output, result);
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
  return ledger;
}
