import { join } from 'node:path';
import * as df from 'durable-functions';
import { app } from '@azure/functions';
import { services } from '../src/app/services';
import { fileCheckpointStore, followLedger } from '../src/app/workflows/ledgerFollower';
import { durableRunControl } from '../src/app/workflows/runControl';
import { durableClientOf } from '../src/app/workflows/durableClient';

/**
 * Every second, reads the chaincode events committed since the last pass (from a checkpoint
 * in the data dir) and cancels the runs whose lease ended on the ledger, by whatever path,
 * and sets each lease's exact expiry timer. New dataset versions (`DatasetContentUpdated`)
 * go to the data triggers watching them (docs/schedules.md). The period bounds how long a run outlives its
 * lease: with the pass and the cancel, the 3 s (measured 1 to 2 s through the host).
 * Timer invocations do not overlap, so one pass at a time moves the checkpoint.
 */
const EVERY_SECOND = '*/1 * * * * *';

app.timer('ledgerEvents', {
  schedule: EVERY_SECOND,
  extraInputs: [df.input.durableClient()],
  handler: async (_timer, context) => {
    const svc = await services();
    const runs = durableRunControl(durableClientOf(context));
    await followLedger({
      ledger: svc.ledger,
      platform: svc.platform,
      runs,
      index: svc.runIndex,
      checkpoints: fileCheckpointStore(join(svc.settings.LEDGERFLOW_DATA_DIR, 'ledger-events', 'checkpoint.json')),
      log: svc.logger.child({ component: 'workflows' }),
      deliverVersion: (update) => svc.scheduleService(runs).deliverDatasetUpdate(update),
    });
  },
});
