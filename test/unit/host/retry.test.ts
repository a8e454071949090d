import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { withRetry } from '../../../src/host/app/retry';

const fixed = { strategy: 'fixedDelay' as const, maxRetryCount: 2, delayMs: 1, minimumMs: 0, maximumMs: 0 };

test('retries up to maxRetryCount, passing the retry count', async () => {
  const seen: number[] = [];
  const result = await withRetry(
    fixed,
    async ({ retryCount }) => {
      seen.push(retryCount);
      if (retryCount < 2) throw new Error('again');
      return 'done';
    },
    new AbortController().signal,
  );
  assert.equal(result, 'done');
  assert.deepEqual(seen, [0, 1, 2]);
});

test('gives up after maxRetryCount, and at once without a policy', async () => {
  let calls = 0;
  await assert.rejects(
    withRetry(
      fixed,
      async () => {
        calls++;
        throw new Error('no');
      },
      new AbortController().signal,
    ),
    /no/,
  );
  assert.equal(calls, 3);
  calls = 0;
  await assert.rejects(
    withRetry(
      undefined,
      async () => {
        calls++;
        throw new Error('no');
      },
      new AbortController().signal,
    ),
  );
  assert.equal(calls, 1);
});

test('waits between attempts leave no listener on the shutdown signal (no MaxListenersExceededWarning)', async () => {
  const shutdown = new AbortController();
  await assert.rejects(
    withRetry(
      { ...fixed, maxRetryCount: 20 },
      async () => {
        throw new Error('disk full');
      },
      shutdown.signal,
    ),
    /disk full/,
  );
  assert.equal(EventEmitter.getEventListeners(shutdown.signal, 'abort').length, 0);
});
