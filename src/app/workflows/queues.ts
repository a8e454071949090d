import { cleanupInstanceId, ORCHESTRATORS, WORKFLOW_EVENTS, type CleanupMessage } from '../../core/workflow/run';
import type { Logger } from '../../observability/logger';
import type { RunControl } from './runControl';
import { factsOf } from './views';

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

/** A lease ended: every running run of its holder that mounts the dataset is canceled. */
export async function cancelRunsUsing(datasetId: string, holder: { user: string; org: string } | undefined, runs: RunControl, log: Logger): Promise<string[]> {
  const canceled: string[] = [];
  for (const record of await runs.list(['Pending', 'Running'])) {
    if (record.name !== ORCHESTRATORS.workflow) continue;
    const full = factsOf(record) === undefined ? await runs.get(record.instanceId) : record;
    const facts = full === undefined ? undefined : factsOf(full);
    if (facts === undefined || !facts.datasetIds.includes(datasetId)) continue;
    if (holder !== undefined && (facts.owner.user !== holder.user || facts.owner.org !== holder.org)) continue;
    await runs.raise(record.instanceId, WORKFLOW_EVENTS.cancel, { reason: `lease on dataset ${datasetId} expired` });
    canceled.push(record.instanceId);
  }
  log.info({ datasetId, workflows: canceled }, 'lease-expired message handled');
  return canceled;
}
