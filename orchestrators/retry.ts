import type { OrchestrationContext, Task } from 'durable-functions';

/**
 * Retries a step a few times with growing durable timers between tries. Used for the
 * ledger and queue steps that bracket a run, where a passing outage must not lose the
 * record. (The SDK's callActivityWithRetry would do, but its history shape differs per
 * backend; a timer loop replays the same everywhere.)
 */
export function* withRetries<O>(
  context: OrchestrationContext,
  step: () => Generator<Task, O, unknown>,
  options: { attempts: number; firstDelaySeconds: number } = { attempts: 3, firstDelaySeconds: 2 },
): Generator<Task, O, unknown> {
  for (let attempt = 1; ; attempt++) {
    try {
      return yield* step();
    } catch (err) {
      if (attempt >= options.attempts) throw err;
      const delayMs = options.firstDelaySeconds * 1000 * 2 ** (attempt - 1);
      yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + delayMs));
    }
  }
}

export function secondsAfter(context: OrchestrationContext, seconds: number): Date {
  return new Date(context.df.currentUtcDateTime.getTime() + seconds * 1000);
}

export function nowIso(context: OrchestrationContext): string {
  return context.df.currentUtcDateTime.toISOString();
}
