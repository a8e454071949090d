import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fixtureApp, startHost, type TestHost } from '../../../bench/support/host';

// The host's own start (src/host/main.ts) defers the SDK's client half to the first
// `df.getClient` (src/loading): the in-process client must still be what that client uses,
// not a loopback HTTP call per operation.
let host: TestHost;

before(async () => {
  host = await startHost({ entry: fixtureApp('durableTransport'), env: { LOG_LEVEL: 'warn' } });
});
after(async () => {
  await host.kill();
});

test("the app's DurableClient is answered in process from the first client call on", async () => {
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${host.url}/api/transport`, { method: 'POST' });
    assert.equal(res.status, 200, await res.clone().text());
    const body = (await res.json()) as { id: string; inProcess: boolean };
    assert.equal(body.inProcess, true);
    assert.match(body.id, /\S/);
  }
});
