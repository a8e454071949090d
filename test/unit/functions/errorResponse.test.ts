import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvocationContext } from '@azure/functions';
import { errorResponse } from '../../../functions/http/errorResponse';
import { LedgerflowError } from '../../../src/core/errors';

const context = () => {
  const logged: unknown[][] = [];
  const ctx = new InvocationContext({ functionName: 'f', invocationId: 'i', logHandler: (_level, ...args) => logged.push(args) });
  return { ctx, logged };
};

test('a LedgerflowError maps to its status with code, message, details and caller-safe data', () => {
  const { ctx } = context();
  const res = errorResponse(
    new LedgerflowError('lease_held', 'the dataset is leased', {
      data: { holder: { user: 'bob', org: 'uio' } },
      details: [{ path: 'ttlSeconds', message: 'too long' }],
    }),
    ctx,
  );
  assert.equal(res.status, 409);
  assert.deepEqual(res.jsonBody, {
    error: {
      holder: { user: 'bob', org: 'uio' },
      code: 'lease_held',
      message: 'the dataset is leased',
      details: [{ path: 'ttlSeconds', message: 'too long' }],
    },
  });
});

test('unknown errors are a generic 500; the cause is logged, not returned', () => {
  const { ctx, logged } = context();
  const res = errorResponse(new Error('ENOENT /secret/path'), ctx);
  assert.equal(res.status, 500);
  assert.deepEqual(res.jsonBody, { error: { code: 'internal', message: 'internal error' } });
  assert.match(String(logged[0]?.[1]), /ENOENT \/secret\/path/);
});
