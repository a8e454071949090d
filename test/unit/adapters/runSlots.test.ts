import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunSlots } from '../../../src/adapters/compute/local/slots';

/** Resolves after the promise callbacks queued so far have run. */
const settled = () => new Promise((r) => setImmediate(r));

test('a free slot goes to the oldest run waiting, first come first served within a run', async () => {
  const slots = new RunSlots(1);
  const releaseFirst = await slots.acquire('a/1', 'a');
  const granted: string[] = [];
  const releases = new Map<string, () => void>();
  const wait = (key: string, run: string) =>
    void slots.acquire(key, run).then((release) => {
      granted.push(key);
      releases.set(key, release);
    });
  wait('b/1', 'b'); // run b is newer than a
  wait('c/1', 'c');
  wait('a/2', 'a'); // a later job of the oldest run goes before both
  wait('b/2', 'b');
  for (const release of [releaseFirst, () => releases.get('a/2')!(), () => releases.get('b/1')!(), () => releases.get('b/2')!()]) {
    release();
    await settled();
  }
  assert.deepEqual(granted, ['a/2', 'b/1', 'b/2', 'c/1']);
});

test('an abandoned wait is refused and takes no slot; a forgotten run ranks as new', async () => {
  const slots = new RunSlots(1);
  const release = await slots.acquire('a/1', 'a');
  const granted: string[] = [];
  const releases = new Map<string, () => void>();
  const wait = (key: string, run: string) =>
    slots.acquire(key, run).then((r) => {
      granted.push(key);
      releases.set(key, r);
    });
  void wait('b/1', 'b');
  const refused = wait('a/2', 'a');
  assert.equal(slots.abandon('a/2'), true);
  await assert.rejects(refused, { code: 'conflict' });
  assert.equal(slots.abandon('a/2'), false);

  slots.forget('a');
  void wait('a/3', 'a'); // now newer than b
  release();
  await settled();
  releases.get('b/1')!();
  await settled();
  assert.deepEqual(granted, ['b/1', 'a/3']);
});
