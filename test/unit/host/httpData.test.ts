import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromRpcHttpResponse, toRpcHttpRequest, toSetCookie } from '../../../src/host/wire/httpData';

test('request headers: arrays joined, App Service identity headers dropped', () => {
  const data = toRpcHttpRequest({
    method: 'GET',
    url: 'http://h/api/x',
    headers: { accept: 'a', 'x-multi': ['1', '2'] as unknown as string, 'x-ms-client-principal-id': 'evil' },
    body: Buffer.alloc(0),
    params: {},
  });
  assert.deepEqual(data.http?.headers, { accept: 'a', 'x-multi': '1, 2' });
  assert.equal(data.http?.body, undefined);
});

test('responses: status, headers, cookies, body bytes; nothing returned is 204', () => {
  const out = fromRpcHttpResponse({
    http: {
      statusCode: '201',
      headers: { 'content-type': 'text/plain' },
      cookies: [{ name: 'a', value: 'b c', secure: { value: true }, maxAge: { value: 60 }, sameSite: 'lax' }],
      body: { bytes: Buffer.from('hi') },
    },
  });
  assert.equal(out.status, 201);
  assert.deepEqual(out.headers['set-cookie'], ['a=b%20c; Max-Age=60; Secure; SameSite=Lax']);
  assert.equal(out.body.toString(), 'hi');
  assert.equal(fromRpcHttpResponse(undefined).status, 204);
});

test('cookie expiry is written as an HTTP date', () => {
  assert.equal(toSetCookie({ name: 'x', value: '1', expires: { value: { seconds: 0 } } }), 'x=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT');
});
