import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '../../../src/observability/logger';

test('an HTTP client error is logged without its request (its URL may hold a secret path)', () => {
  let out = '';
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  const err = Object.assign(new Error('connect ECONNREFUSED'), {
    config: { url: 'http://127.0.0.1:1/runtime/webhooks/durabletask/rpc/SECRETPATH/instances/x' },
    request: { path: '/runtime/webhooks/durabletask/rpc/SECRETPATH/instances/x' },
    response: { config: { url: 'SECRETPATH' } },
  });
  createLogger({ level: 'info', destination }).error({ err }, 'raise failed');
  assert.match(out, /ECONNREFUSED/);
  assert.doesNotMatch(out, /SECRETPATH/);
});
