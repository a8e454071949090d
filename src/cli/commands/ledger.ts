import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { parseSettings } from '../../config/settings';
import { verifyLedger } from '../../ledger-peer/verify';
import { addOrg, BroadcastError } from '../../ledger-peer/addOrg';
import { runStandalonePeer, withPeerOptions, type StandaloneOptions } from '../../ledger-peer/standalone';
import { createLogger } from '../../observability/logger';
import { getOrIssueIdentity, mspRoot } from '../../ledger-peer/localCa';
import { action, formatOption } from '../context';
import { CliError, EXIT } from '../exitCodes';
import { fields, printData } from '../output';

/**
 * `ledgerflow ledger verify [--data-dir <dir>]`: checks the embedded ledger of a data dir
 * (hash chain, transaction order, validation codes, world state, key history, chaincode
 * events) from one read snapshot, whether its host runs or not. Exit 0 when sound, 1 with
 * the first bad block otherwise.
 * `ledgerflow ledger peer --data-dir <dir> [--chaincode <package dir>]...`: runs the embedded
 * Fabric peer on its own (see src/ledger-peer/standalone.ts) until interrupted.
 * `ledgerflow ledger identity --org <org> --user <user> [--data-dir <dir>]`: a user's identity
 * from the organization's CA in that ledger's MSP dir (issued on first use), for a
 * fabric-gateway application of one's own.
 * `ledgerflow ledger add-org <org>`: adds an organization to the channel (ledger-peer/addOrg.ts).
 */
export function ledgerCommand(): Command {
  const ledger = new Command('ledger').description('the embedded ledger of a data dir');
  ledger
    .command('verify')
    .description(
      'verify the embedded ledger: hash chain, transaction order, validation codes, world state, key history, chaincode events (host running or not)',
    )
    .option('--data-dir <dir>', 'the data dir (default LEDGERFLOW_DATA_DIR, else the default data dir)')
    .addOption(formatOption(['json', 'yaml']))
    .action(
      action(async (ctx, o: { dataDir?: string }) => {
        const settings = parseSettings(process.env);
        const dataDir = resolve(o.dataDir ?? settings.LEDGERFLOW_DATA_DIR);
        // Transactions are replayed against the policy the peer endorses with.
        const result = verifyLedger(dataDir, { endorsementPolicy: settings.LEDGER_ENDORSEMENT_POLICY });
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
  ledger
    .command('add-org')
    .description("add an organization to the embedded ledger's channel: a config update signed by admins of a majority of its organizations")
    .argument('<org>', 'the organization (its CA is created in the data dir if absent)')
    .option('--data-dir <dir>', 'the data dir (default LEDGERFLOW_DATA_DIR, else the default data dir)')
    .option('--signer <org...>', 'the organizations whose admins sign (default: a majority, in MSP id order)')
    .addOption(formatOption(['json', 'yaml']))
    .action(
      action(async (ctx, org: string, o: { dataDir?: string; signer?: string[] }) => {
        const dataDir = resolve(o.dataDir ?? parseSettings(process.env).LEDGERFLOW_DATA_DIR);
        const result = await addOrg(dataDir, org, o.signer === undefined ? {} : { signers: o.signer }).catch((err: unknown) => {
          const message = err instanceof Error ? err.message : String(err);
          throw new CliError(EXIT.failure, err instanceof BroadcastError ? 'config_update_refused' : 'add_org_failed', message);
        });
        if (ctx.output.structured) printData(ctx.output, result);
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
  ledger
    .command('identity')
    .description(
      "issue (first time) or show a user's identity from an organization's CA of the embedded ledger, for your own fabric-gateway application: MSP id, certificate and key files",
    )
    .requiredOption('--org <org>', 'organization (its MSP id is <Org>MSP)')
    .requiredOption('--user <user>', 'user name (the certificate CN)')
    .option('--data-dir <dir>', 'the data dir (default LEDGERFLOW_DATA_DIR, else the default data dir)')
    .addOption(formatOption(['json', 'yaml']))
    .action(
      action(async (ctx, o: { org: string; user: string; dataDir?: string }) => {
        const root = mspRoot(resolve(o.dataDir ?? parseSettings(process.env).LEDGERFLOW_DATA_DIR));
        const identity = await getOrIssueIdentity(root, o.org, o.user);
        const dir = join(root, o.org, 'users', o.user);
        const result = { mspId: identity.mspId, certificate: join(dir, 'cert.pem'), privateKey: join(dir, 'key.pem') };
        if (ctx.output.structured) printData(ctx.output, result);
        else
          ctx.output.out(
            fields([
              ['MSP id', result.mspId],
              ['certificate', result.certificate],
              ['private key', result.privateKey],
            ]),
          );
      }),
    );
  ledger.addCommand(
    withPeerOptions(
      new Command('peer').description(
        'run the embedded Fabric peer (Gateway and Deliver services) on its own until interrupted; --chaincode serves your own chaincode package beside ledgerflow',
      ),
    ).action(
      action(async (_ctx, o: StandaloneOptions) => {
        await runStandalonePeer(o, createLogger({ name: 'ledger-peer' }));
        return EXIT.ok;
      }),
    ),
  );
  return ledger;
}
