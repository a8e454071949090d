import * as df from 'durable-functions';
import { app } from '@azure/functions';
import { services } from '../src/app/services';
import { durationMs } from '../src/config/settings';
import { durableRunControl } from '../src/app/workflows/runControl';
import { durableClientOf } from '../src/app/workflows/durableClient';

/**
 * Retention (src/app/workflows/retention.ts): on PURGE_SCHEDULE, purges the finished runs
 * older than WORKFLOW_RETENTION (0: keeps everything). Timer invocations do not overlap.
 */
app.timer('purgeWorkflows', {
  schedule: '%PURGE_SCHEDULE%',
  extraInputs: [df.input.durableClient()],
  handler: async (_timer, context) => {
    const svc = await services();
    const retentionMs = durationMs(svc.settings.WORKFLOW_RETENTION);
    if (retentionMs === 0) return;
    await (await svc.workflowService(durableRunControl(durableClientOf(context)))).purgeExpired(retentionMs);
  },
});
