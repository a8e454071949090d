import type { RetryPolicy } from './registry';

/**
 * Runs `attempt` under a function's retry policy (`retry` in app.timer/app.generic options),
 * as the Functions host does for the triggers that support it: up to maxRetryCount more
 * attempts, with a fixed delay or an exponential back-off between minimum and maximum.
 * `maxRetryCount: -1` means retry forever (until shutdown).
 */
export async function withRetry<T>(
  policy: RetryPolicy | undefined,
  attempt: (retry: { retryCount: number; maxRetryCount: number }) => Promise<T>,
  signal: AbortSignal,
): Promise<T> {
  for (let retryCount = 0; ; retryCount++) {
    try {
      return await attempt({ retryCount, maxRetryCount: policy?.maxRetryCount ?? 0 });
    } catch (err) {
      const more = policy !== undefined && (policy.maxRetryCount < 0 || retryCount < policy.maxRetryCount);
      if (!more || signal.aborted) throw err;
      const delay = policy.strategy === 'fixedDelay' ? policy.delayMs : Math.min(policy.maximumMs, policy.minimumMs * 2 ** retryCount);
      await new Promise<void>((resolve) => {
        // The listener goes when the wait ends either way: the host's one shutdown signal
        // would otherwise gather one per failed attempt (MaxListenersExceededWarning when a
        // full disk makes every attempt fail).
        const onAbort = () => (clearTimeout(timer), resolve());
        const timer = setTimeout(() => (signal.removeEventListener('abort', onAbort), resolve()), delay);
        signal.addEventListener('abort', onAbort, { once: true });
      });
      if (signal.aborted) throw err;
    }
  }
}
