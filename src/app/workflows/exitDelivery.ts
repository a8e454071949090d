import { errorMessage } from '../../core/errors';
import type { Logger } from '../../observability/logger';
import { recoversExits, type ComputeBackend, type ExitDelivery } from '../../ports/compute';
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
      await raiseOrNoInstance(exit, runs);
    } catch (err) {
      log.warn({ ...ids, err: errorMessage(err) }, 'could not deliver a job exit; the status poll will find it');
      continue;
    }
    await compute.markReported(exit.handle);
    delivered++;
  }
  if (delivered > 0) log.info({ delivered }, 'delivered job exits that ended while no host ran');
  return delivered;
}

/**
 * From now on the backend hands the exits it sees to `runs` directly, as the job callback
 * would have but without the HTTP round trip from the host to itself (only for a callback
 * that reaches this host: not when a public URL in front of it names where reports go).
 * The runs of the latest call take them: a durable client stays usable for its host's
 * lifetime. One of another host's runs (no instance here) is left to the callback.
 */
export function deliverExitsInProcess(compute: ComputeBackend, runs: RunControl): void {
  if (!recoversExits(compute)) return;
  const deliver: ExitDelivery = async (exit) => (await raiseOrNoInstance(exit, runs)) === 'raised';
  compute.deliverExitsTo(deliver);
}

async function raiseOrNoInstance(exit: Parameters<ExitDelivery>[0], runs: RunControl): Promise<'raised' | 'no-instance'> {
  try {
    await raiseCompletion(exit, runs);
    return 'raised';
  } catch (err) {
    // The SDK's only sign of an unknown instance: nothing waits for this exit.
    if (/No instance with ID/.test(errorMessage(err))) return 'no-instance';
    throw err;
  }
}
