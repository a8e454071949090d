import * as df from 'durable-functions';
import { app } from '@azure/functions';
import { CLEANUP_QUEUE, QUEUE_CONNECTION } from '../orchestrators/activities/cleanup';
import { workflowPlatform } from '../src/app/workflows/platform';
import { cleanupMessageSchema, startCleanup } from '../src/app/workflows/queues';
import { durableRunControl } from '../src/app/workflows/runControl';

/**
 * Queue triggers of the workflow side. A message that fails validation throws, so the
 * host retries it and finally moves it to the poison queue.
 */
app.storageQueue('workflowCleanup', {
  queueName: CLEANUP_QUEUE,
  connection: QUEUE_CONNECTION,
  extraInputs: [df.input.durableClient()],
  handler: async (message, context) => {
    const platform = await workflowPlatform();
    await startCleanup(cleanupMessageSchema.parse(message), durableRunControl(df.getClient(context)), platform.log);
  },
});
