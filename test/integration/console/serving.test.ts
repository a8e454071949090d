import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { DatasetsApi } from '../datasets/client';

/**
 * The console is served at `/` by the same app as the API (host.json routePrefix "", API
 * functions under `api/`): the API's routes, errors and the durable HTTP API answer as before,
 * and the static files cannot be used to read outside the console's build.
 */
let api: DatasetsApi;
before(async () => {
  api = await DatasetsApi.start();
});
after(async () => {
  await api?.host.kill();
});

/** A request sent byte for byte (fetch would normalize `..` away before sending). */
function raw(path: string): Promise<{ status: number; type: string; body: string }> {
  const url = new URL(api.host.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the console at / and its assets; the API and the host routes stay theirs', async () => {
  const index = await fetch(`${api.host.url}/`);
  assert.equal(index.status, 200);
  assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(index.headers.get('cache-control'), 'no-cache');
  const html = await index.text();
  const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  assert.ok(asset, html);
  const js = await fetch(`${api.host.url}${asset}`);
  assert.equal(js.status, 200);
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal((await fetch(`${api.host.url}/runs/abc`)).headers.get('content-type'), 'text/html; charset=utf-8');

  assert.equal((await api.call(null, 'GET', '/health')).status, 200);
  const me = await api.call('bob', 'GET', '/me');
  assert.deepEqual(me.body, { user: 'bob', org: 'uio' });
  const unknown = await api.call('bob', 'GET', '/no-such-route');
  assert.deepEqual([unknown.status, unknown.body.error.code], [404, 'not_found']);
  const wrongMethod = await api.call('bob', 'GET', '/workflows/x/cancel');
  assert.deepEqual([wrongMethod.status, wrongMethod.body.error.code], [405, 'method_not_allowed']);
  for (const path of ['/api', '/.auth/me', '/runtime/webhooks/durabletask/instances', '/admin/host/status']) {
    const r = await raw(path);
    assert.doesNotMatch(r.type, /text\/html/, `${path} is not the console`);
  }
});

test('path traversal on the static files is refused over the wire', async () => {
  for (const path of [
    '/../package.json',
    '/assets/../../package.json',
    '/%2e%2e/package.json',
    '/assets/%2e%2e/%2e%2e/%2e%2e/package.json',
    '/..%2f..%2fpackage.json',
    '/assets/..%5c..%5c..%5cpackage.json',
    '/%2e%2e%2f%2e%2e%2fhost.json',
    '/assets/%00.js',
  ]) {
    const r = await raw(path);
    assert.doesNotMatch(r.body, /"dependencies"|"extensionBundle"|ledgerflow-host/, path);
    assert.ok(r.status === 400 || r.status === 404 || r.type.startsWith('text/html'), `${path}: ${r.status} ${r.type}`);
  }
});
