import { errorMessage } from '../../core/errors';
import type { Logger } from '../../observability/logger';
import { recoversExits, type ComputeBackend } from '../../ports/compute';
import { raiseCompletion } from './callbacks';
import type { RunControl } from './runControl';

/**
 * Hands every job exit that no callback delivered to its orchestration, as the callback
 * would have. A job that ends while no host runs (after kill -9, or a SIGTERM that left it
 * running) would otherwise wait for its orchestration's next status poll; run at start, its
 * successor starts within a moment of the restart. Idempotent: an orchestration ignores a
 * report of an attempt it has moved past, and one that has ended or was purged (410, 404)
 * no longer waits, so the exit is marked reported either way.
 */
export async function deliverUnreportedExits(compute: ComputeBackend, runs: RunControl, log: Logger): Promise<number> {
  if (!recoversExits(compute)) return 0;
  let delivered = 0;
  for (const exit of await compute.unreportedExits()) {
    const ids = { workflowId: exit.workflowId, jobName: exit.jobName, attempt: exit.attempt };
    try {
      await raiseCompletion({ ...ids, exitCode: exit.exitCode, startedAt: exit.startedAt, endedAt: exit.endedAt }, runs);
    } catch (err) {
      // The SDK's only sign of an unknown instance: nothing waits for this exit.
      if (!/No instance with ID/.test(errorMessage(err))) {
        log.warn({ ...ids, err: errorMessage(err) }, 'could not deliver a job exit; the status poll will find it');
        continue;
      }
    }
    await compute.markReported(exit.handle);
    delivered++;
  }
  if (delivered > 0) log.info({ delivered }, 'delivered job exits that ended while no host ran');
  return delivered;
}
