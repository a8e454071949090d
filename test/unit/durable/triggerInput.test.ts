import assert from 'node:assert/strict';
import { test } from 'node:test';
import { releaseHistory } from '../../../src/durable/triggerInput';

test('releaseHistory empties the trigger history in place and leaves everything else', () => {
  const history = [{ EventType: 12 }, { EventType: 0 }];
  const trigger = { history, input: { a: 1 }, instanceId: 'i1' };
  releaseHistory(trigger);
  assert.equal(trigger.history, history);
  assert.deepEqual(trigger, { history: [], input: { a: 1 }, instanceId: 'i1' });
  // Values that are not a trigger input (a host may hand any trigger's value) are left alone.
  for (const value of [undefined, null, 7, 'text', { history: 'not a list' }]) assert.doesNotThrow(() => releaseHistory(value));
});
