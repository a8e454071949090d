import * as df from 'durable-functions';
import { app } from '@azure/functions';
import { cleanupMessageSchema, QUEUE_CONNECTION, QUEUES } from '../src/api/messages';
import { services } from '../src/app/services';
import { startCleanup } from '../src/app/workflows/queues';
import { durableRunControl } from '../src/app/workflows/runControl';
import { durableClientOf } from '../src/app/workflows/durableClient';

/**
 * Queue triggers of the workflow side. A message that fails validation throws, so the
 * host retries it and finally moves it to the poison queue.
 */
app.storageQueue('workflowCleanup', {
  queueName: QUEUES.cleanup,
  connection: QUEUE_CONNECTION,
  extraInputs: [df.input.durableClient()],
  handler: async (message, context) => {
    const svc = await services();
    await startCleanup(cleanupMessageSchema.parse(message), durableRunControl(durableClientOf(context)), svc.logger.child({ component: 'workflows' }));
  },
});
