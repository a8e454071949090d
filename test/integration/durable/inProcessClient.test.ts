import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { HttpRequest, InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import type { DurableClient, OrchestrationContext } from 'durable-functions';
import { clientConfig, WEBHOOK_PATH, type ApiSecrets } from '../../../src/durable/clientConfig';
import { DurableEngine } from '../../../src/durable/engine';
import { createHttpApi, type DurableHttpApi } from '../../../src/durable/httpApi';
import { installInProcessClient } from '../../../src/durable/inProcessClient';
import { DurableStore } from '../../../src/durable/store';
import { newSecret } from '../../../src/durable/systemKey';
import { directPort } from '../../../bench/support/durableDirectPort';
import { eventually } from '../../../bench/support/host';

// The SDK's DurableClient answered in process (as the embedded host does for its app) must
// behave exactly as over HTTP: the same operations against two engines, one served over a
// socket and one with nothing listening at its address, give the same results.

/** The axios the SDK's client uses (not a dependency of this project: resolved as the SDK does). */
interface Axios {
  defaults: { adapter?: unknown };
  get(url: string): Promise<{ status: number; data: unknown }>;
  post(url: string, data?: unknown): Promise<{ status: number; data: unknown }>;
}
const axios = createRequire(require.resolve('durable-functions/lib/src/durableClient/DurableClient.js'))('axios') as Axios;
const durableClientClass = (require('durable-functions/lib/src/durableClient/DurableClient.js') as { DurableClient: { prototype: object } }).DurableClient;

interface Side {
  engine: DurableEngine;
  store: DurableStore;
  api: DurableHttpApi;
  secrets: ApiSecrets;
  origin: string;
  /** The client's axios takes the adapter axios has when the client is made. */
  client(): DurableClient;
  /** Per in-process call: whether it came through axios's request pipeline. */
  readonly viaPipeline: boolean[];
}

const dir = mkdtempSync(join(tmpdir(), 'durable-inproc-'));
const shutdown = new AbortController();
let server: Server;
let overHttp: Side;
let inProcess: Side;
/** In process too, with a client whose axios instance has an interceptor (a no-op): its
 * calls go through axios's pipeline to the adapter, not straight to the API. */
let inProcessPipeline: Side;
let uninstall: () => void;
let uninstallPipeline: () => void;
const originalAdapter = axios.defaults.adapter;

function side(name: string, origin: string): Side {
  const store = new DurableStore(join(dir, `${name}.db`));
  const engine = new DurableEngine({
    store,
    functions: directPort(
      {
        echo: function* (ctx: OrchestrationContext) {
          return yield ctx.df.callActivity('upper', ctx.df.getInput());
        },
        waitForGo: function* (ctx: OrchestrationContext) {
          return yield ctx.df.waitForExternalEvent('go');
        },
      },
      { upper: (x) => String(x).toUpperCase() },
    ),
  });
  engine.start();
  const secrets = { systemKey: newSecret(), rpcSecret: newSecret() };
  const api = createHttpApi({ engine, taskHub: 'testhub', origin, secrets });
  let client: DurableClient | undefined;
  const makeClient = (): DurableClient => {
    const binding = df.input.durableClient();
    const ctx = new InvocationContext({ functionName: 'starter', invocationId: name, options: { extraInputs: [binding] } });
    ctx.extraInputs.set(binding, clientConfig(origin, 'testhub', secrets));
    return (client ??= df.getClient(ctx));
  };
  return { engine, store, api, secrets, origin, client: makeClient, viaPipeline: [] };
}

const install = (s: Side, signal: AbortSignal): (() => void) =>
  installInProcessClient({
    rpcBaseUrl: clientConfig(s.origin, 'testhub', s.secrets).rpcBaseUrl,
    dispatch: (req) => {
      s.viaPipeline.push((new Error().stack ?? '').includes('dispatchRequest'));
      return s.api.dispatch(req);
    },
    shutdownSignal: signal,
  });

/** The axios instance the SDK's client made for itself. */
const instanceOf = (c: DurableClient): { interceptors: { request: { use(f: (config: unknown) => unknown): number } } } =>
  (c as unknown as { axiosInstance: ReturnType<typeof instanceOf> }).axiosInstance;

/** An address nothing listens on: a port the kernel gave out and took back. */
async function deadOrigin(): Promise<string> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

before(async () => {
  server = createServer((req, res) => void overHttp.api.serve(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  overHttp = side('http', `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  inProcess = side('inproc', await deadOrigin());
  inProcessPipeline = side('pipeline', await deadOrigin());
  uninstall = install(inProcess, shutdown.signal);
  uninstallPipeline = install(inProcessPipeline, shutdown.signal);
  instanceOf(inProcessPipeline.client()).interceptors.request.use((config) => config);
});

after(async () => {
  uninstall();
  uninstallPipeline();
  server.close();
  for (const s of [overHttp, inProcess, inProcessPipeline]) {
    await s.engine.stop();
    s.engine.close();
    s.store.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

/** What an SDK call gave: its value, or its error's message (addresses and keys made neutral). */
async function outcome(s: Side, call: () => Promise<unknown>): Promise<unknown> {
  const neutral = (text: string): string =>
    text.replaceAll(s.origin, 'ORIGIN').replaceAll(encodeURIComponent(s.secrets.systemKey), 'KEY').replaceAll(s.secrets.systemKey, 'KEY');
  try {
    const value = await call();
    return JSON.parse(neutral(JSON.stringify(value ?? null))) as unknown;
  } catch (err) {
    return { threw: neutral((err as Error).message) };
  }
}

/** A status without its times, which differ between the two runs. */
function statusOf(status: df.DurableOrchestrationStatus): unknown {
  const { createdTime: _c, lastUpdatedTime: _l, ...rest } = status;
  return rest;
}

async function scenario(s: Side): Promise<unknown[]> {
  const c = s.client();
  const request = new HttpRequest({ url: `${s.origin}/api/start`, method: 'POST' });
  const results: unknown[] = [];
  const step = async (call: () => Promise<unknown>) => results.push(await outcome(s, call));
  await step(() => c.startNew('echo', { instanceId: 'e1', input: 'abc' }));
  await eventually(async () => (await c.getStatus('e1')).runtimeStatus === 'Completed' || undefined, 10_000, 'e1 to complete');
  await step(async () => statusOf(await c.getStatus('e1', { showHistory: true, showHistoryOutput: true, showInput: true })));
  await step(async () => {
    const res = await c.waitForCompletionOrCreateCheckStatusResponse(request, 'e1', { timeoutInMilliseconds: 5_000, retryIntervalInMilliseconds: 10 });
    return { status: res.status, body: await res.text() };
  });
  await step(async () => {
    const res = c.createCheckStatusResponse(request, 'e1');
    return { status: res.status, body: await res.json() };
  });
  await step(() => c.startNew('waitForGo', { instanceId: 'w1' }));
  // Without input, axios's JSON transform sends the SDK's "" as `""`.
  await step(async () => (await c.getStatus('w1', { showInput: true })).input);
  await step(() => c.startNew('waitForGo', { instanceId: 'w1' }));
  await step(() => c.startNew('noSuchOrchestrator'));
  await step(() => c.raiseEvent('missing', 'go', 1));
  await step(() => c.suspend('w1', 'pause'));
  await eventually(async () => (await c.getStatus('w1')).runtimeStatus === 'Suspended' || undefined, 10_000, 'w1 to be suspended');
  await step(() => c.resume('w1', 'go on'));
  await step(() => c.raiseEvent('w1', 'go', { n: 1 }));
  await eventually(async () => (await c.getStatus('w1')).runtimeStatus === 'Completed' || undefined, 10_000, 'w1 to complete');
  await step(async () => (await c.getStatus('w1')).output);
  await step(() => c.terminate('w1', 'too late'));
  await step(() => c.startNew('waitForGo', { instanceId: 'w2' }));
  await step(() => c.terminate('w2', 'no longer needed'));
  await eventually(async () => (await c.getStatus('w2')).runtimeStatus === 'Terminated' || undefined, 10_000, 'w2 to be terminated');
  await step(async () => (await c.getStatusBy({ runtimeStatus: [df.OrchestrationRuntimeStatus.Terminated] })).map((x) => x.instanceId));
  await step(async () => (await c.getStatusAll()).map((x) => x.instanceId).sort());
  await step(() => c.purgeInstanceHistory('e1'));
  await step(() => c.getStatus('e1'));
  await step(() => c.purgeInstanceHistoryBy({ createdTimeFrom: new Date(0), runtimeStatus: [df.OrchestrationRuntimeStatus.Terminated] }));
  await step(() => c.signalEntity(new df.EntityId('counter', 'k'), 'add', 1));
  return results;
}

test('the SDK client answered in process gives what it gives over HTTP, with nothing listening', async () => {
  const viaHttp = await scenario(overHttp);
  const viaProcess = await scenario(inProcess);
  const viaPipeline = await scenario(inProcessPipeline);
  assert.deepEqual(viaProcess, viaHttp);
  assert.deepEqual(viaPipeline, viaHttp);
  // The SDK client's own calls skip axios's pipeline, unless its instance was changed.
  assert.ok(inProcess.viaPipeline.length > 10 && !inProcess.viaPipeline.includes(true));
  assert.ok(inProcessPipeline.viaPipeline.length > 10 && !inProcessPipeline.viaPipeline.includes(false));
  // The scenario ran: instances started, finished, and errors came back as the SDK reports them.
  assert.equal(viaHttp[0], 'e1');
  assert.match(JSON.stringify(viaHttp[6]), /409|already exists/);
});

test('only the rpc address with this process secret is answered in process', async () => {
  const base = clientConfig(inProcess.origin, 'testhub', inProcess.secrets).rpcBaseUrl;
  // Another secret on the same address is not taken: it goes to the socket, where nothing listens.
  const forged = base.replace(inProcess.secrets.rpcSecret, newSecret());
  await assert.rejects(axios.get(`${forged}instances`), /ECONNREFUSED/);
  // Dot segments out of the rpc path reach the webhook routes, which want the system key.
  const escaped = await axios.post(`${base}../../instances/x/terminate`).catch((err: { response?: { status: number } }) => err.response);
  assert.equal(escaped?.status, 401);
  // Requests to other addresses through the same axios still go over HTTP.
  const status = await axios.get(`${overHttp.origin}${WEBHOOK_PATH}/instances?code=${encodeURIComponent(overHttp.secrets.systemKey)}`);
  assert.equal(status.status, 200);
});

test('once the host stops, in-process calls are refused as the stopping server refuses them', async () => {
  const tmp = side('stopping', await deadOrigin());
  const stopping = new AbortController();
  const remove = install(tmp, stopping.signal);
  try {
    assert.equal(await tmp.client().startNew('echo', { instanceId: 's1', input: 'x' }), 's1');
    stopping.abort();
    await assert.rejects(tmp.client().startNew('echo', { instanceId: 's2' }), /503.*shutting down/);
    assert.equal(tmp.engine.getStatus('s2'), undefined);
  } finally {
    remove();
    await tmp.engine.stop();
    tmp.engine.close();
    tmp.store.close();
  }
  // Once no host answers through it, axios has the adapter it had before, whatever the
  // order, and the SDK's DurableClients keep the axios instances axios made.
  uninstall();
  uninstallPipeline();
  assert.equal(axios.defaults.adapter, originalAdapter);
  assert.equal(Object.getOwnPropertyDescriptor(durableClientClass.prototype, 'axiosInstance'), undefined);
  const first = install(inProcess, shutdown.signal);
  const second = install(overHttp, shutdown.signal);
  first();
  assert.notEqual(axios.defaults.adapter, originalAdapter);
  second();
  assert.equal(axios.defaults.adapter, originalAdapter);
  uninstall = install(inProcess, shutdown.signal);
  uninstallPipeline = install(inProcessPipeline, shutdown.signal);
});
