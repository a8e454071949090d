import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { forwardToWorker } from '../../../src/host/http/workerProxy';

/** What the programming model's proxy receives (it reads method, url, headers, and hands the
 * request itself to a WHATWG Request as the body). */
interface ProxyRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

/** A host server that forwards every request to a stand-in for the worker's proxy, and the
 * requests that proxy saw (with their response, which the test answers or leaves open). */
async function hostWithProxy(): Promise<{ url: string; seen: EventEmitter; close(): Promise<void> }> {
  const proxy = new EventEmitter();
  const seen = new EventEmitter();
  proxy.on('request', (req: ProxyRequest, res: { end(chunk?: string): void }) => seen.emit('request', req, res));
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { done } = forwardToWorker(proxy as unknown as Server, res, {
        invocationId: 'inv-1',
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: { 'x-custom': 'yes' },
        host: 'example.test',
        body: Buffer.concat(chunks),
      });
      done.catch(() => undefined);
      // After forwardToWorker's own listener: the body is cut by the time this fires.
      res.once('close', () => seen.emit('closed'));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

test('the proxy gets method, URL, forwarded headers and the whole body as a stream a WHATWG Request reads', async () => {
  const host = await hostWithProxy();
  try {
    const seen = once(host.seen, 'request') as Promise<[ProxyRequest, { end(chunk?: string): void }]>;
    const answer = fetch(`${host.url}/api/echo?x=1`, { method: 'POST', body: '{"ttlSeconds":60}' });
    const [req, res] = await seen;
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/api/echo?x=1');
    assert.equal(req.headers['x-custom'], 'yes');
    assert.equal(req.headers['x-ms-invocation-id'], 'inv-1');
    assert.equal(req.headers['x-forwarded-host'], 'example.test');
    assert.equal(req.headers['content-length'], '17');
    const body = await new Request(`http://example.test${req.url}`, {
      method: req.method,
      body: req as unknown as ReadableStream,
      duplex: 'half',
    } as RequestInit).text();
    assert.equal(body, '{"ttlSeconds":60}');
    res.end('ok');
    assert.equal(await (await answer).text(), 'ok');
  } finally {
    await host.close();
  }
});

test("a function reading the body stream gets the body's bytes in a buffer of its own, not a view into node's shared pool", async () => {
  const host = await hostWithProxy();
  try {
    const seen = once(host.seen, 'request') as Promise<[ReadableStream<Uint8Array>, { end(chunk?: string): void }]>;
    const answer = fetch(`${host.url}/api/echo`, { method: 'POST', body: 'secret-free body' });
    const [req, res] = await seen;
    const reader = req.getReader();
    const first = await reader.read();
    assert.equal(Buffer.from(first.value as Uint8Array).toString(), 'secret-free body');
    assert.equal(first.value?.buffer.byteLength, first.value?.byteLength);
    assert.equal((await reader.read()).done, true);
    res.end('ok');
    await (await answer).text();
  } finally {
    await host.close();
  }
});

test('a client that goes away cuts the body for a function that has not read it yet', async () => {
  const host = await hostWithProxy();
  try {
    const seen = once(host.seen, 'request') as Promise<[ProxyRequest]>;
    const client = httpRequest(`${host.url}/api/upload`, { method: 'POST', headers: { 'content-length': '5' } });
    client.on('error', () => undefined);
    client.end('hello');
    const [req] = await seen;
    const closed = once(host.seen, 'closed');
    client.destroy();
    await closed;
    const read = new Request('http://example.test/api/upload', {
      method: 'POST',
      body: req as unknown as ReadableStream,
      duplex: 'half',
    } as RequestInit).text();
    await assert.rejects(read, /the client closed the connection/);
  } finally {
    await host.close();
  }
});
