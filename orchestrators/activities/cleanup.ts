import { output } from '@azure/functions';
import type { CleanupMessage } from '../../src/core/workflow/run';
import { QUEUE_CONNECTION, QUEUES } from '../../src/api/messages';
import { defineActivity } from './define';

const cleanupQueue = output.storageQueue({ queueName: QUEUES.cleanup, connection: QUEUE_CONNECTION });

/** Hands the finished run to the cleanup function through the queue, so cleanup survives
 * a crash of this host and runs exactly once however often the message is delivered. */
export const requestCleanup = defineActivity<CleanupMessage, null>(
  'requestCleanup',
  async (message, _deps, context) => {
    context.extraOutputs.set(cleanupQueue, message);
    return null;
  },
  { extraOutputs: [cleanupQueue] },
);
