import { output } from '@azure/functions';
import type { CleanupMessage } from '../../src/core/workflow/run';
import { QUEUE_CONNECTION, QUEUES } from '../../src/api/messages';
import { defineActivity } from './define';

const cleanupQueue = output.storageQueue({ queueName: QUEUES.cleanup, connection: QUEUE_CONNECTION });

/** Hands the finished run to the cleanup function through the queue, so cleanup survives
 * a crash of this host and runs exactly once however often the message is delivered. Every
 * run ends here, so this is also where the run index learns its end (a retry writes the
 * same status again, which changes nothing). */
export const requestCleanup = defineActivity<CleanupMessage, null>(
  'requestCleanup',
  async (message, deps, context) => {
    await deps.runIndex.setStatus(message.workflowId, message.status, deps.now());
    context.extraOutputs.set(cleanupQueue, message);
    return null;
  },
  { extraOutputs: [cleanupQueue] },
);
