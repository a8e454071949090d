import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHostJson } from '../../../src/host/config/hostJson';

test('defaults: routePrefix api, queue options as Azure Functions', () => {
  const h = parseHostJson({ version: '2.0' });
  assert.equal(h.extensions.http.routePrefix, 'api');
  assert.equal(h.extensions.queues.maxDequeueCount, 5);
  assert.equal(h.extensions.queues.visibilityTimeout, 0);
  assert.equal(h.extensions.queues.batchSize, 16);
});

test('TimeSpans are parsed; other extension sections are kept for their owners', () => {
  const h = parseHostJson({
    functionTimeout: '00:10:00',
    extensions: { http: { routePrefix: '' }, queues: { visibilityTimeout: '00:00:30' }, durableTask: { hubName: 'x' } },
  });
  assert.equal(h.functionTimeout, 600_000);
  assert.equal(h.extensions.http.routePrefix, '');
  assert.equal(h.extensions.queues.visibilityTimeout, 30_000);
  assert.equal(h.extensions.queues.maxDequeueCount, 5);
  assert.deepEqual(h.extensions['durableTask'], { hubName: 'x' });
});

test('a bad value names its path', () => {
  assert.throws(() => parseHostJson({ extensions: { queues: { visibilityTimeout: '30 seconds' } } }), /extensions\.queues\.visibilityTimeout/);
});
