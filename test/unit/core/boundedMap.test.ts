import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setBounded } from '../../../src/core/boundedMap';

test('a bounded map never holds more than its limit, keeps the newest entries, and updates a present key in place', () => {
  const map = new Map<number, string>();
  for (let i = 0; i < 100; i++) {
    setBounded(map, i, `v${i}`, 16);
    assert.ok(map.size <= 16);
    assert.equal(map.get(i), `v${i}`, 'the entry just set is there');
  }
  const kept = [...map.keys()];
  assert.deepEqual(
    kept,
    [...kept].sort((a, b) => a - b),
    'oldest first',
  );
  assert.equal(kept[kept.length - 1], 99);
  // A key already present is updated without evicting anything.
  const size = map.size;
  setBounded(map, 99, 'again', 16);
  assert.equal(map.size, size);
  assert.equal(map.get(99), 'again');
});
