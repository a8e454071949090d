import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { deliverExitsInProcess, deliverUnreportedExits } from '../src/app/workflows/exitDelivery';
import { createCompute } from '../src/app/compute';
import { settings } from '../src/config/settings';
import { logger } from '../src/observability/logger';
import { durableRunControl } from '../src/app/workflows/runControl';
import { durableClientOf } from '../src/app/workflows/durableClient';

/**
 * At start (and hourly, for a callback lost while the host ran), delivers the exits of
 * local jobs that ended while no host could take their callback. Only the local runner's
 * jobs outlive the host; cluster backends report from their own watchers. From the first
 * run on, local exits whose callback would come back to this host are delivered in process.
 */
app.timer('deliverJobExits', {
  schedule: '0 0 * * * *',
  runOnStartup: true,
  extraInputs: [df.input.durableClient()],
  handler: async (_timer, context) => {
    const s = settings();
    if (s.COMPUTE !== 'local') return;
    // The local backend is one per process (the one services() holds), and it is all this
    // needs: not services(), whose ledger, key stores and run index would be built at start,
    // beside the host's first requests, for no exit at all.
    const compute = await createCompute(s, logger());
    // Its durable client only when an exit is delivered.
    const runs = durableRunControl(() => durableClientOf(context));
    if (s.LEDGERFLOW_PUBLIC_URL === '') deliverExitsInProcess(compute, runs);
    await deliverUnreportedExits(compute, runs, logger().child({ component: 'workflows' }));
  },
});
