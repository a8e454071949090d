import { cleanupInstanceId, ORCHESTRATORS, type CleanupMessage } from '../../core/workflow/run';
import type { Logger } from '../../observability/logger';
import type { RunControl } from './runControl';

/**
 * Starts the run's cleanup orchestration unless one exists: its derived instance id is the
 * marker that makes a redelivered message do nothing twice.
 */
export async function startCleanup(message: CleanupMessage, runs: RunControl, log: Logger): Promise<'started' | 'already'> {
  const id = cleanupInstanceId(message.workflowId);
  if ((await runs.get(id)) !== undefined) {
    log.info({ workflowId: message.workflowId }, 'cleanup already started; message ignored');
    return 'already';
  }
  await runs.start(ORCHESTRATORS.cleanup, id, message);
  log.info({ workflowId: message.workflowId }, 'cleanup started');
  return 'started';
}
