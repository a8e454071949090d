import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import { ORCHESTRATORS, type LeaseExpiryInput } from '../src/core/workflow/run';
import { call } from './activities/define';
import { expireLease, type LeaseExpiryState } from './activities/leases';
import { withRetries } from './retry';

/** How often the expiry is asked again while the ledger's clock still holds the lease. */
const RECHECK_MS = 1000;
const MAX_CHECKS = 10;

/**
 * One lease's exact expiry (instance id: leaseExpiryInstanceId(lease)): a durable timer at
 * `expiresAt`, then the platform's ExpireLeases transaction, whose `LeasesExpired` event
 * stops the runs on the lease (src/app/workflows/ledgerFollower.ts). The timer lives in the
 * durable store, so a host that stops or crashes meanwhile fires it when it is back (at
 * once, if the time has passed). Started by the ledger follower for every lease in force
 * it sees taken, whatever path took it; the periodic LEASE_EXPIRY_SCHEDULE timer remains
 * the safety net. Deterministic: time only from the context, I/O only through activities.
 */
export function* leaseExpiryOrchestrator(context: OrchestrationContext): Generator<Task, LeaseExpiryState, unknown> {
  const input = context.df.getInput<LeaseExpiryInput>();
  const at = Date.parse(input.expiresAt);
  for (let check = 1; ; check++) {
    if (context.df.currentUtcDateTime.getTime() < at) yield context.df.createTimer(new Date(at));
    const state = yield* withRetries(context, () => call(expireLease, input));
    if (state === 'ended' || check >= MAX_CHECKS) return state;
    // The peer's transaction time is behind this host's clock: ask again shortly.
    yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + RECHECK_MS));
  }
}

export const leaseExpiryOrchestration = df.app.orchestration(ORCHESTRATORS.leaseExpiry, leaseExpiryOrchestrator);
