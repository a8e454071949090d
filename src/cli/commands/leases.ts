import { Command, Option } from 'commander';
import * as api from '../../api/schemas';
import { action, formatOption } from '../context';
import { fields, printData, printOne, printRows, who } from '../output';
import { parseDuration } from '../parse';

/** `ledgerflow lease take|release|show` and `ledgerflow history`. */

const datasetPath = (id: string) => `datasets/${encodeURIComponent(id)}`;

export function leaseCommand(): Command {
  const lease = new Command('lease').description("take, release and show a dataset's lease");

  lease
    .command('take')
    .description('lease a dataset (exit 4 when someone else holds it)')
    .argument('<datasetId>', 'dataset id')
    .addOption(new Option('--ttl <duration>', "lease length (seconds, or 90s, 30m, 2h, 1d; default: the dataset's policy)").argParser(parseDuration))
    .action(
      action(async (ctx, id: string, o: { ttl?: number }) => {
        const taken = await ctx.client.json('POST', `${datasetPath(id)}/lease`, api.leaseTaken, o.ttl === undefined ? {} : { body: { ttlSeconds: o.ttl } });
        if (ctx.output.structured) return printData(ctx.output, taken);
        ctx.output.out(`leased ${taken.datasetId} to ${who(taken.holder)} until ${taken.expiresAt}\n`);
      }),
    );

  lease
    .command('release')
    .description('release a lease (holder or owner)')
    .argument('<datasetId>', 'dataset id')
    .action(
      action(async (ctx, id: string) => {
        await ctx.client.empty('DELETE', `${datasetPath(id)}/lease`);
        if (ctx.output.structured) return printData(ctx.output, { datasetId: id, released: true });
        ctx.output.out(`released ${id}\n`);
      }),
    );

  lease
    .command('show')
    .description("show a dataset's current lease")
    .argument('<datasetId>', 'dataset id')
    .addOption(formatOption())
    .action(
      action(async (ctx, id: string) => {
        const d = await ctx.client.json('GET', datasetPath(id), api.dataset);
        const { lease } = d;
        printOne(ctx.output, { datasetId: d.id, state: d.state, lease }, d.id, () =>
          ctx.output.out(
            lease === null
              ? `${d.id} is ${d.state}\n`
              : fields([
                  ['dataset', d.id],
                  ['holder', who(lease.holder)],
                  ['taken', lease.takenAt],
                  ['expires', lease.expiresAt],
                ]),
          ),
        );
      }),
    );

  return lease;
}

export function historyCommand(): Command {
  return new Command('history')
    .description('the ledger history of a dataset: registration, leases, workflows, deletion')
    .argument('<datasetId>', 'dataset id')
    .addOption(formatOption())
    .action(
      action(async (ctx, id: string) => {
        const h = await ctx.client.json('GET', `${datasetPath(id)}/history`, api.history);
        printRows(
          ctx.output,
          h,
          h.items,
          {
            columns: [
              ['TIME', (e) => e.timestamp],
              ['ACTION', (e) => e.action],
              ['BY', (e) => who(e.by)],
              ['TX', (e) => e.txId],
            ],
            wide: [['VALUE', (e) => (e.value === undefined ? '' : JSON.stringify(e.value))]],
            name: (e) => e.txId,
          },
          'no history',
        );
      }),
    );
}
