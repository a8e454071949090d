import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { HttpResponse, type HttpRequest, type InvocationContext } from '@azure/functions';
import { HookRegistry } from '../../../src/host/app/hooks';
import { invokeDirectly } from '../../../src/host/app/directInvocation';
import { invokeFunction, type InvocationInput, type InvokeDeps } from '../../../src/host/app/invoke';
import type { LoadedApp } from '../../../src/host/app/loadApp';
import { loadFixtureApp, testLogger } from '../../helpers/inProcessApp';
import type { RegisteredFunction } from '../../../src/host/app/registry';
import { fromRpcHttpResponse, plainHttpResponse, toRpcHttpRequest } from '../../../src/host/wire/httpData';

// An HTTP invocation the host does without the programming model's InvocationModel must
// give the handler what the model gives it (its HttpRequest, its InvocationContext with the
// same options and extra inputs) and answer what the model answers, for responses the host
// converts and for those it leaves to the model. Each case runs both ways on the real
// @azure/functions, in process.

let app: LoadedApp;
let viaModel: InvokeDeps;
let direct: InvokeDeps;
const lines: Record<string, unknown>[] = [];
let fixture: { look: { at: (r: HttpRequest, c: InvocationContext) => Promise<unknown> } };
let close: () => Promise<void>;

before(async () => {
  const logger = testLogger(lines);
  ({ app, fixture, close } = await loadFixtureApp<typeof fixture>('httpRequest', logger));
  // A no-op preInvocation hook keeps every invocation on the model's path.
  const modelHooks = new HookRegistry();
  modelHooks.register('preInvocation', () => undefined);
  viaModel = { programmingModel: app.programmingModel, hooks: modelHooks, logger };
  direct = { programmingModel: app.programmingModel, hooks: new HookRegistry(), logger };
});
after(() => close());

const fn = (name: string): RegisteredFunction => app.registry.get(name) as RegisteredFunction;
const CLIENT = { json: JSON.stringify({ taskHubName: 'hub', creationUrls: { a: 'http://h/x' }, rpcBaseUrl: 'http://h/rpc/' }) };

const input = (method: string, body: string, convert = true): InvocationInput => ({
  trigger: toRpcHttpRequest({
    method,
    url: 'http://localhost:7071/api/answers/n?x=1&x=2',
    headers: { 'content-type': 'application/json', 'x-custom': 'v' },
    body: Buffer.from(body),
    params: { name: 'n' },
  }),
  ...(convert ? { convertReturn: plainHttpResponse } : {}),
});

/** What the handler saw, as data, and what came back (or what was thrown). */
async function seen(deps: InvokeDeps, name: string, inv: InvocationInput, answer: unknown, id: string): Promise<unknown> {
  let saw: unknown;
  fixture.look.at = async (request, context) => {
    const body = await request.text();
    saw = {
      request: {
        class: request.constructor,
        url: request.url,
        method: request.method,
        params: request.params,
        query: [...request.query.entries()],
        headers: [...request.headers.entries()],
        body,
        used: request.bodyUsed,
        user: request.user,
      },
      context: {
        class: context.constructor,
        keys: Object.keys(context),
        fields: { ...context, invocationId: undefined, extraInputs: undefined, extraOutputs: undefined },
        id: context.invocationId === id,
        client: context.extraInputs.get('client'),
        extraInputs: context.extraInputs.constructor,
      },
    };
    context.log('answering', name);
    return typeof answer === 'function' ? (answer as () => unknown)() : answer;
  };
  lines.length = 0;
  try {
    const r = await invokeFunction(deps, fn(name), inv, id, name === 'answers' ? { client: CLIENT } : undefined);
    const http = r.returnValue?.http;
    const returned = http?.body?.bytes ? { ...r.returnValue, http: { ...http, body: Buffer.from(http.body.bytes).toString() } } : r.returnValue;
    return { saw, returned, written: fromRpcHttpResponse(r.returnValue), logs: lines.map((l) => [l['msg'], l['invocationId'] === id]) };
  } catch (err) {
    return { saw, threw: String(err) };
  }
}

test('HTTP functions: the same request, context, extra inputs and answer as through the model', async () => {
  // The first invocation teaches the host the model's classes.
  await seen(viaModel, 'answers', input('POST', '{}'), null, 'warm');
  const probe = invokeDirectly(direct, fn('answers'), input('POST', '1'), 'probe', { client: CLIENT });
  assert.ok(probe, 'the direct path is taken');
  await probe;
  const answers: unknown[] = [
    undefined,
    null,
    { jsonBody: { id: 'abc' } },
    { status: 202, body: 'accepted', headers: { 'X-A': 'a' } },
    // Left to the model's toRpcHttp: an HttpResponse, cookies, a header value undici normalises.
    () => new HttpResponse({ status: 201, jsonBody: [1, 2], headers: { 'x-b': 'b' } }),
    { body: 'x', cookies: [{ name: 'c', value: 'v', httpOnly: true }] },
    { status: 204 },
    { body: new Uint8Array([1, 2, 3]) },
    'a string',
    () => {
      throw new Error('boom');
    },
  ];
  for (const answer of answers) {
    for (const [method, body] of [
      ['POST', '{"a":1}'],
      ['GET', ''],
      ['PATCH', '\ufeffnot json'],
    ] as const) {
      const viaTheModel = await seen(viaModel, 'answers', input(method, body), answer, 'id-1');
      const directly = await seen(direct, 'answers', input(method, body), answer, 'id-1');
      assert.deepEqual(directly, viaTheModel, `${method} answering ${String(answer)}`);
    }
  }
});

test('HTTP invocations the host does not do directly: no convertReturn (a streamed request), hooks, data the model converts', () => {
  assert.equal(invokeDirectly(direct, fn('answers'), input('POST', '{}', false), 'x', { client: CLIENT }), undefined);
  assert.equal(invokeDirectly(viaModel, fn('answers'), input('POST', '{}'), 'x', { client: CLIENT }), undefined);
  assert.equal(invokeDirectly(direct, fn('answers'), input('POST', '{}'), 'x', { client: { bytes: Buffer.from('x') } }), undefined);
  assert.equal(invokeDirectly(direct, fn('answers'), input('POST', '{}'), 'x', { other: CLIENT }), undefined);
});

test("a direct HTTP invocation's body is the request's bytes in a buffer of their own, never a view of what shares its memory", async () => {
  await seen(viaModel, 'answers', input('POST', '{}'), null, 'warm');
  // As the host's readBody hands over a body that came in one chunk: a view into a larger
  // buffer that also holds another request's bytes.
  const shared = Buffer.from('another-request-secret{"mine":1}');
  const body = shared.subarray('another-request-secret'.length);
  const inv: InvocationInput = {
    trigger: toRpcHttpRequest({
      method: 'POST',
      url: 'http://localhost:7071/api/answers/n',
      headers: { 'content-type': 'application/json' },
      body,
      params: { name: 'n' },
    }),
    convertReturn: plainHttpResponse,
  };
  const read: Array<(r: HttpRequest) => Promise<ArrayBufferLike>> = [
    async (r) => (await r.arrayBuffer()) as ArrayBufferLike,
    async (r) => ((await r.body?.getReader().read())?.value as Uint8Array).buffer,
    async (r) => (await r.blob().then((b) => b.arrayBuffer())) as ArrayBufferLike,
  ];
  for (const how of read) {
    let got: ArrayBufferLike | undefined;
    fixture.look.at = async (request) => {
      got = await how(request);
      return null;
    };
    const direct_ = invokeDirectly(direct, fn('answers'), inv, 'iso', { client: CLIENT });
    assert.ok(direct_, 'the direct path is taken');
    await direct_;
    assert.equal(Buffer.from(got as ArrayBuffer).toString(), '{"mine":1}');
  }
});
