import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { request } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureApp } from '../../bench/support/host';
import type { HostExtension } from '../../src/host/extension';
import { startHost } from '../../src/host/host';
import { createLogger } from '../../src/observability/logger';
import { DatasetsApi, TOKENS } from '../integration/datasets/client';

/**
 * A client that submits the moment the port opens. The port opens before the extensions
 * start (they need the host's address), so until every extension runs the host must answer
 * 503 `starting` with Retry-After, never a 500 from a route whose engine is not there yet;
 * /api/health says `starting` until then.
 */
let api: DatasetsApi | undefined;
after(() => api?.host.kill());

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  await new Promise((ok) => server.close(ok));
  return port;
}

interface Answer {
  status: number;
  retryAfter: string | undefined;
  body: string;
}

/** One request; undefined while nothing listens on the port. */
function send(port: number, method: string, path: string, body?: string): Promise<Answer | undefined> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, headers: { authorization: `Bearer ${TOKENS.alice}`, 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body: text }));
      },
    );
    req.on('error', () => resolve(undefined));
    req.end(body);
  });
}

const workflow = JSON.stringify({ workflow: 'jobs:\n  - command: echo hi\n' });

/**
 * Starts a host on a free port and sends submits (each with a health read) from the moment
 * the port opens until the ready line, and checks every answer.
 */
async function raceTheStart(): Promise<void> {
  const port = await freePort();
  const starting = DatasetsApi.start({ COMPUTE: 'local' }, { env: { PORT: String(port) } });
  let ready = false;
  void starting.then(
    (a) => ((api = a), (ready = true)),
    () => (ready = true),
  );
  const answers: { submit: Answer; health: Answer | undefined }[] = [];
  const deadline = Date.now() + 60_000;
  while (!ready && Date.now() < deadline) {
    const submit = await send(port, 'POST', '/api/workflows', workflow);
    if (submit === undefined) {
      await new Promise((r) => setTimeout(r, 2));
      continue;
    }
    answers.push({ submit, health: await send(port, 'GET', '/api/health') });
  }
  api = await starting;
  assert.ok(answers.length > 0, 'the port never answered before the ready line');
  for (const { submit, health } of answers) {
    assert.ok(submit.status === 202 || submit.status === 503, `submit answered ${submit.status}: ${submit.body}`);
    if (submit.status === 503) {
      assert.equal(submit.retryAfter, '1');
      assert.equal(JSON.parse(submit.body).error.code, 'unavailable');
    }
    if (health !== undefined && health.status !== 200) {
      assert.equal(health.status, 503);
      assert.equal(JSON.parse(health.body).status, 'starting');
    }
  }
  const after = await api.call('alice', 'POST', '/workflows', JSON.parse(workflow));
  assert.equal(after.status, 202, after.text);
  const health = await api.call(null, 'GET', '/health');
  assert.equal(health.body.status, 'ok');
}

test('requests sent as the port opens of the real app get 503 starting with Retry-After or their answer; never a 500', async () => {
  // Whether any request lands before the extensions have started is a race the client loses on
  // a fast start (they start in the turn the port opens); the window itself is held open in the
  // test below. Here every answer of the real app and its extensions is checked.
  await raceTheStart();
});

test('while an extension is still starting, every request is answered 503 starting with Retry-After, and served once all have started', async () => {
  const appDir = mkdtempSync(join(tmpdir(), 'lf-ready-app-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'lf-ready-data-'));
  writeFileSync(join(appDir, 'package.json'), JSON.stringify({ main: fixtureApp('jsonroutes') }));
  // As the ledgerflow app's host.json: jsonRoute puts its routes under `api/` itself.
  writeFileSync(join(appDir, 'host.json'), JSON.stringify({ version: '2.0', extensions: { http: { routePrefix: '' } } }));
  let release = (): void => undefined;
  const held = new Promise<void>((r) => (release = r));
  let heldStart = (): void => undefined;
  const startCalled = new Promise<void>((r) => (heldStart = r));
  const slow: HostExtension = {
    name: 'slow',
    triggerTypes: [],
    async start() {
      heldStart();
      await held;
    },
    stop() {},
  };
  const port = await freePort();
  const starting = startHost({
    appDir,
    env: { PORT: String(port), LEDGERFLOW_DATA_DIR: dataDir },
    extensions: [slow],
    logger: createLogger({ level: 'silent' }),
  });
  try {
    await startCalled;
    for (const path of ['/api/widgets/w1', '/api/health', '/runtime/webhooks/durabletask/instances']) {
      const answer = await send(port, 'GET', path);
      assert.equal(answer?.status, 503, path);
      assert.equal(answer.retryAfter, '1');
      const body = JSON.parse(answer.body) as { status: string; error: { code: string } };
      assert.equal(body.error.code, 'unavailable');
      assert.equal(body.status, 'starting');
    }
    release();
    const host = await starting;
    try {
      const answer = await send(port, 'GET', '/api/widgets/w1');
      assert.equal(answer?.status, 200, answer?.body);
    } finally {
      await host.stop();
    }
  } finally {
    release();
    rmSync(appDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
});
