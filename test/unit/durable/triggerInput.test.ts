import assert from 'node:assert/strict';
import { test } from 'node:test';
import { releaseEpisode } from '../../../src/durable/triggerInput';

test("releaseEpisode empties the trigger's history in place and drops the context's df, and nothing else", () => {
  const history = [{ EventType: 12 }, { EventType: 0 }];
  const trigger = { history, input: { a: 1 }, instanceId: 'i1' };
  const context = { df: { state: history }, invocationId: 'x' };
  releaseEpisode(trigger, context);
  assert.equal(trigger.history, history);
  assert.deepEqual(trigger, { history: [], input: { a: 1 }, instanceId: 'i1' });
  assert.deepEqual(context, { invocationId: 'x' });
  // Values that are not an episode's (a host may hand any trigger's value) are left alone.
  for (const value of [undefined, null, 7, 'text', { history: 'not a list' }]) assert.doesNotThrow(() => releaseEpisode(value, value));
});
