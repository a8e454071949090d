import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { deliverExitsInProcess, deliverUnreportedExits } from '../src/app/workflows/exitDelivery';
import { services } from '../src/app/services';
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
    const svc = await services();
    if (svc.settings.COMPUTE !== 'local') return;
    const compute = await svc.compute();
    const runs = durableRunControl(durableClientOf(context));
    if (svc.settings.LEDGERFLOW_PUBLIC_URL === '') deliverExitsInProcess(compute, runs);
    await deliverUnreportedExits(compute, runs, svc.logger.child({ component: 'workflows' }));
  },
});
