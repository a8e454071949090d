import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { HttpRequest } from '@azure/functions';
import fc from 'fast-check';
import { HookRegistry } from '../../../src/host/app/hooks';
import { invokeFunction, type InvokeDeps } from '../../../src/host/app/invoke';
import type { LoadedApp } from '../../../src/host/app/loadApp';
import { loadFixtureApp, testLogger } from '../../helpers/inProcessApp';
import type { RegisteredFunction } from '../../../src/host/app/registry';
import { DeferredRequest } from '../../../src/host/wire/deferredRequest';
import { toRpcHttpRequest } from '../../../src/host/wire/httpData';
import type { RpcHttpData } from '../../../src/host/wire/rpcTypes';

// A deferred native request must give an HTTP handler exactly what @azure/functions' own
// HttpRequest (over an undici Request) gives: both are built by the real library here and
// read the same ways, in the same order, and every answer and error must match.

type Read = (r: HttpRequest) => Promise<unknown> | unknown;

const READS: Record<string, Read> = {
  json: (r) => r.json(),
  text: (r) => r.text(),
  arrayBuffer: async (r) => Buffer.from(await r.arrayBuffer()).toString('hex'),
  bodyUsed: (r) => r.bodyUsed,
  locked: (r) => r.body?.locked ?? 'no body',
  headers: (r) => [...r.headers.entries()],
  method: (r) => r.method,
  url: (r) => r.url,
  query: (r) => [...r.query.entries()],
  params: (r) => r.params,
  user: (r) => r.user,
  cloneText: (r) => r.clone().text(),
  blobSize: async (r) => (await r.blob()).size,
};

async function observe(request: () => HttpRequest, reads: readonly string[]): Promise<unknown[]> {
  const seen: unknown[] = [];
  let r: HttpRequest;
  try {
    r = request();
  } catch (err) {
    return [{ constructorThrew: String(err) }];
  }
  for (const name of reads) {
    try {
      seen.push({ [name]: await (READS[name] as Read)(r) });
    } catch (err) {
      seen.push({ [name]: 'threw', error: String(err), type: (err as Error).constructor.name });
    }
  }
  return seen;
}

const asInit = (http: RpcHttpData, nativeRequest?: DeferredRequest): ConstructorParameters<typeof HttpRequest>[0] =>
  ({ ...http, ...(nativeRequest ? { nativeRequest } : {}) }) as unknown as ConstructorParameters<typeof HttpRequest>[0];

async function same(http: RpcHttpData, reads: readonly string[]): Promise<void> {
  const deferred = () => DeferredRequest.of(http);
  const want = await observe(() => new HttpRequest(asInit(http)), reads);
  const got = await observe(() => new HttpRequest(asInit(http, deferred())), reads);
  assert.deepEqual(got, want, JSON.stringify({ http: { ...http, body: http.body?.bytes ? Buffer.from(http.body.bytes).toString('hex') : http.body }, reads }));
}

const BOM = [0xef, 0xbb, 0xbf];
const bodyBytes = fc.oneof(
  fc.uint8Array({ maxLength: 24 }),
  fc.jsonValue({ maxDepth: 2 }).map((v) => new Uint8Array(Buffer.from(JSON.stringify(v) ?? 'null'))),
  fc
    .tuple(fc.integer({ min: 1, max: 2 }), fc.jsonValue({ maxDepth: 1 }), fc.uint8Array({ maxLength: 3 }))
    .map(([boms, v, tail]) => new Uint8Array([...Array.from({ length: boms }, () => BOM).flat(), ...Buffer.from(JSON.stringify(v) ?? '1'), ...tail])),
  fc.string().map((s) => new Uint8Array(Buffer.from(`"${s}"`))),
);
const headerName = fc.oneof(
  fc.constantFrom('content-type', 'x-a', 'accept', 'x-ms-client-principal', 'authorization'),
  fc.stringMatching(/^[a-z0-9!#$%&'*+.^_`|~-]{1,8}$/),
);
const headerValue = fc.oneof(fc.constantFrom('application/json', 'text/plain; charset=utf-16', 'a, b', ' padded ', ''), fc.string({ maxLength: 8 }));
const path = fc.oneof(fc.constant('/api/x'), fc.constant('/api/x?a=1&a=2&b=%20'), fc.stringMatching(/^\/api\/[a-z?=&%0-9]{0,10}$/));

test('a deferred request reads as the model reads its own undici Request', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'CONNECT', 'TRACE', 'post', 'QUERY'),
      fc.option(bodyBytes, { nil: undefined }),
      fc.dictionary(headerName, headerValue, { maxKeys: 4 }),
      path,
      fc.constantFrom('localhost:7071', 'u:p@localhost', 'h'),
      fc.array(fc.constantFrom(...Object.keys(READS)), { minLength: 1, maxLength: 5 }),
      async (method, bytes, headers, p, host, reads) => {
        const http = toRpcHttpRequest({ method, url: `http://${host}${p}`, headers, body: Buffer.from(bytes ?? []), params: { name: 'n' } })
          .http as RpcHttpData;
        await same(http, reads);
      },
    ),
    { numRuns: 400 },
  );
});

test('body read first, then everything else; an empty body; a string body is left to the model', async () => {
  const http = (body: RpcHttpData['body'], method = 'POST'): RpcHttpData => ({
    method,
    url: 'http://h/api/x?q=1',
    headers: { 'content-type': 'application/json' },
    params: {},
    body,
  });
  const everything = Object.keys(READS);
  for (const body of [{ bytes: Buffer.from('{"a":[1,2]}') }, { bytes: Buffer.alloc(0) }, undefined, null, { bytes: Buffer.from('not json') }]) {
    for (const first of ['json', 'text', 'arrayBuffer', 'cloneText', 'headers']) await same(http(body), [first, ...everything]);
  }
  assert.equal(DeferredRequest.of(http({ string: '{}' })), undefined);
  assert.equal(DeferredRequest.of(http({ bytes: Buffer.from('x') }, 'GET')), undefined);
  assert.equal(DeferredRequest.of({ ...http(undefined), url: 'http://u:p@h/api/x' }), undefined);
  assert.equal(DeferredRequest.of({ ...http(undefined), headers: { 'x-a': 'a\nb' } }), undefined);
});

// Through the host's invocation path: after the first HTTP invocation (which teaches the host
// that the model takes a native request), no undici Request is made for a handler that only
// reads the body, and what handlers see is the same as before.
let app: LoadedApp;
let deps: InvokeDeps;
let fixture: { look: { at: (r: HttpRequest) => Promise<unknown> } };
let close: () => Promise<void>;

before(async () => {
  const logger = testLogger();
  ({ app, fixture, close } = await loadFixtureApp<typeof fixture>('httpRequest', logger));
  deps = { programmingModel: app.programmingModel, hooks: new HookRegistry(), logger };
});
after(() => close());

test('HTTP invocations through the host hand the model a deferred request', async () => {
  const fn = app.registry.get('reads') as RegisteredFunction;
  const call = async (body: string, at: (r: HttpRequest) => Promise<unknown>): Promise<unknown> => {
    fixture.look.at = at;
    const trigger = toRpcHttpRequest({
      method: 'POST',
      url: 'http://h/api/reads?x=1',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(body),
      params: {},
    });
    const { returnValue } = await invokeFunction(deps, fn, { trigger });
    return JSON.parse(Buffer.from(returnValue?.http?.body?.bytes ?? []).toString());
  };
  const NativeRequest = globalThis.Request;
  let made = 0;
  globalThis.Request = class extends NativeRequest {
    constructor(...args: ConstructorParameters<typeof Request>) {
      super(...args);
      made++;
    }
  };
  try {
    assert.deepEqual(await call('{"n":1}', (r) => r.json()), { n: 1 });
    const first = made;
    assert.deepEqual(await call('{"n":2}', async (r) => ({ body: await r.json(), used: r.bodyUsed, q: r.query.get('x') })), {
      body: { n: 2 },
      used: true,
      q: '1',
    });
    assert.equal(made, first, 'no undici Request for a handler that reads only the body');
    assert.deepEqual(await call('[3]', async (r) => ({ type: r.headers.get('content-type'), body: await r.json() })), { type: 'application/json', body: [3] });
    assert.equal(made, first + 1, 'the real Request once the handler reads the headers');
  } finally {
    globalThis.Request = NativeRequest;
  }
});

test('an HTTP invocation whose request the model takes from the worker proxy gets its trigger as it is, with no deferred request', async () => {
  const fn = app.registry.get('reads') as RegisteredFunction;
  const model = deps.programmingModel;
  const original = model.getInvocationModel;
  const handed: unknown[] = [];
  model.getInvocationModel = function (this: typeof model, coreCtx) {
    handed.push(coreCtx.request.inputData?.[0]?.data);
    return original.call(this, coreCtx);
  };
  fixture.look.at = (r) => r.json();
  const trigger = () =>
    toRpcHttpRequest({ method: 'POST', url: 'http://h/api/reads', headers: { 'content-type': 'application/json' }, body: Buffer.from('{"n":1}'), params: {} });
  try {
    // The first invocation teaches the host that the model takes a deferred request.
    await invokeFunction(deps, fn, { trigger: trigger() });
    await invokeFunction(deps, fn, { trigger: trigger() });
    const proxied = trigger();
    await invokeFunction(deps, fn, { trigger: proxied, viaProxy: true });
    assert.ok((handed[1] as { http?: { nativeRequest?: unknown } }).http?.nativeRequest instanceof DeferredRequest, 'deferred without the proxy');
    assert.equal(handed[2], proxied);
  } finally {
    model.getInvocationModel = original;
  }
});
