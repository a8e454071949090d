import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { request } from 'node:http';
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

test('requests sent as the port opens get 503 starting with Retry-After, then succeed; never a 500', async () => {
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
  // The very first answer came while the extensions were starting.
  assert.equal(answers[0]?.submit.status, 503, `first answer: ${answers[0]?.submit.body}`);
  const after = await api.call('alice', 'POST', '/workflows', JSON.parse(workflow));
  assert.equal(after.status, 202, after.text);
  const health = await api.call(null, 'GET', '/health');
  assert.equal(health.body.status, 'ok');
});
