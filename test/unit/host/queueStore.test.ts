import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueueStore } from '../../../src/host/queue/queueStore';

function store(t: { after(fn: () => void): void }) {
  let now = 1_000_000;
  const dir = mkdtempSync(join(tmpdir(), 'lf-q-'));
  const s = new QueueStore(dir, () => now);
  t.after(() => {
    s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { s, advance: (ms: number) => (now += ms) };
}

test('a received message is invisible until its lease runs out, then comes back counted', (t) => {
  const { s, advance } = store(t);
  s.enqueue('jobs', 'a');
  const [first] = s.receive('jobs', 10, 1000);
  assert.equal(first?.body, 'a');
  assert.equal(first?.dequeueCount, 1);
  assert.deepEqual(s.receive('jobs', 10, 1000), []);
  advance(1001);
  const [again] = s.receive('jobs', 10, 1000);
  assert.equal(again?.dequeueCount, 2);
  assert.equal(s.delete(first!), false, 'a stale pop receipt cannot delete');
  assert.equal(s.delete(again!), true);
  assert.equal(s.count('jobs'), 0);
});

test('FIFO order, delayed visibility, release with delay, binary bodies, objects as JSON', (t) => {
  const { s, advance } = store(t);
  s.enqueue('jobs', { n: 1 });
  s.enqueue('jobs', Buffer.from([1, 2, 3]));
  s.enqueue('jobs', 'later', { visibilityDelayMs: 500 });
  const got = s.receive('jobs', 10, 1000);
  assert.deepEqual(
    got.map((m) => m.body),
    ['{"n":1}', Buffer.from([1, 2, 3])],
  );
  s.release(got[0]!, 200);
  advance(300);
  assert.deepEqual(
    s.receive('jobs', 10, 1000).map((m) => m.body),
    ['{"n":1}'],
  );
  advance(300);
  assert.deepEqual(
    s.receive('jobs', 10, 1000).map((m) => m.body),
    ['later'],
  );
});

test('poison: the message moves to <queue>-poison in one step; expired messages are dropped', (t) => {
  const { s, advance } = store(t);
  s.enqueue('jobs', 'bad');
  const [m] = s.receive('jobs', 1, 1000);
  assert.equal(s.moveToPoison(m!), 'jobs-poison');
  assert.equal(s.count('jobs'), 0);
  assert.deepEqual(
    s.peek('jobs-poison').map((p) => [p.body, p.dequeueCount]),
    [['bad', 0]],
  );
  s.enqueue('jobs', 'short', { timeToLiveMs: 100 });
  advance(200);
  assert.deepEqual(s.receive('jobs', 1, 1000), []);
});

test('leases of a dead host are reclaimed; queue names follow Azure rules', (t) => {
  const { s } = store(t);
  s.enqueue('jobs', 'x');
  s.receive('jobs', 1, 60_000);
  assert.equal(s.reclaimLeases(), 1);
  assert.equal(s.receive('jobs', 1, 1000).length, 1);
  assert.throws(() => s.enqueue('Bad_Name', 'x'), /not a valid queue name/);
});
