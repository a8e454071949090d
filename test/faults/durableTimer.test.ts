import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { OrchestrationContext } from 'durable-functions';
import { DurableEngine } from '../../src/durable/engine';
import { EventType } from '../../src/durable/history';
import { DurableStore } from '../../src/durable/store';
import { directPort } from '../../bench/support/durableDirectPort';
import { eventually } from '../../bench/support/host';
import { fillDisk, mountSmallDisk } from './tmpfs';

/**
 * A durable timer that comes due while the disk is full. The episode that takes in its
 * TimerFired cannot commit; before, the failed commit went to the engine's fatal handler
 * (the host died, or, where it survived, the instance stayed with its inbox and replay
 * state ahead of the store and the timer was never recorded as fired). Now the engine keeps
 * the batch and commits it once space returns: the timer fires, the orchestration ends.
 */
const disk = mountSmallDisk(8);
after(() => disk.remove());

test('a timer created before the disk filled fires once space returns; nothing is fatal', { skip: disk.skip ?? false }, async () => {
  const store = new DurableStore(join(disk.dir, 'durable.db'));
  const fatal: unknown[] = [];
  const engine = new DurableEngine({
    store,
    functions: directPort(
      {
        poll: function* (ctx: OrchestrationContext) {
          yield ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + 300));
          // Enough to need new pages in the store: this episode's commit cannot fit in slack.
          ctx.df.setCustomStatus('x'.repeat(256 * 1024));
          return 'fired';
        },
      },
      {},
    ),
    onFatal: (err) => fatal.push(err),
  });
  engine.start();
  try {
    const id = await engine.startNew('poll');
    await eventually(() => (store.getHistory(id).some((e) => e.EventType === EventType.TimerCreated) ? true : undefined), 10_000, 'the timer to be created');
    const filler = join(disk.dir, 'fill');
    fillDisk(filler);
    // The timer comes due while nothing can be written; new work is refused meanwhile.
    // (A start accepted before the engine met the full disk waits for space like the rest.)
    const started: Promise<unknown>[] = [];
    await eventually(
      async () => {
        const attempt = engine.startNew('poll').catch((err: { code?: string }) => err.code);
        started.push(attempt);
        const answer = await Promise.race([attempt, new Promise((r) => setTimeout(() => r('waiting'), 100))]);
        return answer === 'insufficient_storage' ? true : undefined;
      },
      10_000,
      'the engine to refuse new work with insufficient_storage',
    );
    assert.equal(engine.getStatus(id)?.row.status, 'Running');
    rmSync(filler);
    const row = await eventually(
      () => {
        const s = engine.getStatus(id);
        return s?.row.status === 'Completed' ? s.row : undefined;
      },
      10_000,
      'the orchestration to complete once space returned',
    );
    assert.equal(row.output, JSON.stringify('fired'));
    assert.ok(
      store.getHistory(id).some((e) => e.EventType === EventType.TimerFired),
      'TimerFired is in the history',
    );
    await Promise.all(started);
    assert.deepEqual(fatal, []);
  } finally {
    await engine.stop();
    engine.close();
    store.close();
  }
});
