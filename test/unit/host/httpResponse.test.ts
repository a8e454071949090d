import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { after, before, test } from 'node:test';
import { HttpResponse } from '@azure/functions';
import fc from 'fast-check';
import { HookRegistry } from '../../../src/host/app/hooks';
import { invokeFunction, type InvokeDeps } from '../../../src/host/app/invoke';
import type { LoadedApp } from '../../../src/host/app/loadApp';
import { loadFixtureApp, testLogger } from '../../helpers/inProcessApp';
import type { RegisteredFunction } from '../../../src/host/app/registry';
import { fromRpcHttpResponse, NOT_PLAIN, plainHttpResponse, toRpcHttpRequest } from '../../../src/host/wire/httpData';

// An HTTP function's plain response init, converted by the host (plainHttpResponse), must
// give the typed data the programming model's toRpcHttp gives (through an undici Response),
// and what the host writes from it must be the same; anything it does not reproduce is
// left to the model. Each case runs both ways on the real @azure/functions, in process.

let app: LoadedApp;
let deps: InvokeDeps;
let fixture: { next: { value: unknown } };
let close: () => Promise<void>;

before(async () => {
  const logger = testLogger();
  ({ app, fixture, close } = await loadFixtureApp<typeof fixture>('httpReturn', logger));
  deps = { programmingModel: app.programmingModel, hooks: new HookRegistry(), logger };
});
after(() => close());

const trigger = toRpcHttpRequest({ method: 'GET', url: 'http://localhost/api/answers', headers: {}, body: Buffer.alloc(0), params: {} });

/** The `$return` typed data, through the model or converted by the host, with bytes as a Buffer. */
async function answer(value: unknown, host: boolean): Promise<unknown> {
  fixture.next.value = value;
  const fn = app.registry.get('answers') as RegisteredFunction;
  try {
    const { returnValue } = await invokeFunction(deps, fn, { trigger, ...(host ? { convertReturn: plainHttpResponse } : {}) });
    const http = returnValue?.http;
    if (!http?.body?.bytes) return returnValue;
    return { ...returnValue, http: { ...http, body: { bytes: Buffer.from(http.body.bytes) } }, written: fromRpcHttpResponse(returnValue) };
  } catch (err) {
    return { threw: String(err) };
  }
}

async function same(value: unknown): Promise<void> {
  assert.deepEqual(await answer(value, true), await answer(value, false), inspect(value));
}

test('plain response inits convert as the programming model converts them', async () => {
  for (const value of [
    undefined,
    null,
    {},
    { jsonBody: { id: 'abc', n: [1, 2, null] } },
    { jsonBody: 'text', status: 201 },
    { jsonBody: 0 },
    { jsonBody: false, body: 'ignored' },
    { jsonBody: null, body: 'used' },
    { jsonBody: { toJSON: () => undefined } },
    { jsonBody: { a: 1 }, headers: { 'Content-Type': 'application/problem+json', 'X-B': 'b', 'x-a': 'a' } },
    { body: 'héllo ✓', status: 404 },
    { body: '', status: 599 },
    { body: 'x', headers: { 'content-type': 'text/html', empty: '' } },
    { status: 200, headers: { Location: '/there', 'retry-after': '10' } },
    { jsonBody: { big: 1n } },
  ]) {
    await same(value);
  }
});

test('what the host does not reproduce is left to the model', () => {
  for (const value of [
    new HttpResponse({ jsonBody: 1 }),
    { jsonBody: 1, cookies: [{ name: 'a', value: 'b' }] },
    { jsonBody: 1, enableContentNegotiation: true },
    { body: Buffer.from('x') },
    { body: new Uint8Array(1) },
    { status: 204 },
    { status: 199 },
    { status: 200.5 },
    { status: '200' },
    { headers: { 'x-a': ' padded' } },
    { headers: { 'x-a': 'a', 'X-A': 'b' } },
    { headers: { 'set-cookie': 'a=b' } },
    { headers: { 'bad name': 'x' } },
    { headers: { 'x-n': 5 } },
    { headers: [['x-a', 'a']] },
    { jsonBody: () => 1 },
    Object.create({ jsonBody: 1 }),
    'a string',
    5,
  ]) {
    assert.equal(plainHttpResponse(value), NOT_PLAIN, inspect(value));
  }
});

test('any init the host converts gives what the model gives', async () => {
  const name = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,12}$/);
  const value = fc.stringMatching(/^[\t\x20-\x7e]{0,16}$/);
  const init = fc.record(
    {
      status: fc.integer({ min: 150, max: 650 }),
      headers: fc.dictionary(name, value, { maxKeys: 4 }),
      body: fc.oneof(fc.string(), fc.constant(null)),
      jsonBody: fc.oneof(fc.jsonValue(), fc.constant(undefined)),
    },
    { requiredKeys: [] },
  );
  await fc.assert(
    fc.asyncProperty(init, async (v) => {
      // Only what the host takes is compared: the rest goes through the model either way.
      if (plainHttpResponse(v) !== NOT_PLAIN) await same(v);
    }),
    { numRuns: 300 },
  );
});
