import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { FakeAzureFilesServer } from '../../fakes/azureFilesServer';
import { durableFetch, durableSystemKey } from '../../../bench/support/durableApi';
import { eventually } from '../../../bench/support/host';
import { FileKeyStores } from '../../../src/adapters/keyStore/fileKeyStore';
import { callbackToken } from '../../../src/core/workflow/callbackToken';
import { credentialName, dataKeyName } from '../../../src/core/secretNames';
import { systemKeyPath } from '../../../src/durable/systemKey';
import { DatasetsApi, TOKENS, type Who } from '../datasets/client';

/**
 * The trust model's promise, system-wide: no secret in clear anywhere the system writes.
 * One host with an Azure Files dataset (credential) and local datasets (data keys), leased;
 * a run that succeeds (with a retried job, so two attempts' tokens), a run canceled while
 * it runs, a run that asks to mount the Azure Files dataset (its credential is fetched for
 * the launch, which the local backend then refuses), cleanup after each. Then every byte
 * under the data dir (SQLite databases with WAL files: durable history, inputs, outputs,
 * custom status; ledger blocks and world state; queues; key store; run workspaces and job
 * logs), the host's stdout and stderr, every response body the test received and every
 * durable instance as the management API serves it (history, input, output) are searched
 * for each secret in several spellings; among them the management API's system key (its
 * home is its 0600 file) and any path under the in-process client's secret rpc path.
 *
 * How the callback tokens are known: they are derived, never stored, so the test reads the
 * callback key from the platform organization's key store through the key store adapter
 * (the same master key file the host uses) and derives each (run, job, attempt)'s token
 * with the product's function. That derivation is checked against the tokens actually
 * sent: LEDGERFLOW_PUBLIC_URL points at a recording proxy in front of the host, so every
 * completion callback passes through the test, which keeps its bearer token.
 */
const AZURE_CREDENTIAL = `AzureCanary${randomBytes(64).toString('base64').slice(12)}`;
const WRONG_TOKEN = `tok-wrong-${randomBytes(12).toString('hex')}`;
const dataDir = mkdtempSync(join(tmpdir(), 'lf-wf-secrets-'));
let api: DatasetsApi;
let files: FakeAzureFilesServer;
let proxy: Server;
let target = '';
const presentedTokens = new Set<string>();

/** Records each callback's bearer token and forwards the request to the host. */
async function startProxy(): Promise<string> {
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const auth = req.headers.authorization ?? '';
      if (auth.startsWith('Bearer ')) presentedTokens.add(auth.slice('Bearer '.length));
      fetch(`${target}${req.url ?? '/'}`, {
        method: req.method ?? 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: Buffer.concat(chunks),
      })
        .then(async (r) => res.writeHead(r.status).end(Buffer.from(await r.arrayBuffer())))
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((ok) => proxy.listen(0, '127.0.0.1', ok));
  return `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
}

before(async () => {
  files = await FakeAzureFilesServer.start({ accountKey: AZURE_CREDENTIAL });
  files.seed('owner-share', { 'cohort/visits.csv': 'id,visit\n1,2026-01-01\n' });
  const proxyUrl = await startProxy();
  api = await DatasetsApi.start(
    {
      COMPUTE: 'local',
      LEDGERFLOW_PUBLIC_URL: proxyUrl,
      WORKFLOW_STATUS_POLL_SECONDS: '2',
      LEASE_EXPIRY_SCHEDULE: '0 0 0 1 1 *',
      AZURE_FILES_ALLOW_PRIVATE: 'true',
    },
    { dataDir },
  );
  target = api.host.url;
});
after(async () => {
  await api?.host.kill();
  await files?.close();
  proxy?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Run {
  id: string;
  status: string;
  jobs: { name: string; status: string; attempts: number }[];
}
const FINISHED = ['Succeeded', 'Failed', 'Canceled'];

async function created(who: Who, body: unknown): Promise<string> {
  const r = await api.call(who, 'POST', '/datasets', body);
  assert.equal(r.status, 201, r.text);
  return r.body.id as string;
}
/** alice submits; bob, who owns the datasets of uio, reviews and approves (owner consent
 * puts the requests, decisions and their events through the same checks). */
async function submit(workflow: string): Promise<string> {
  const r = await api.call('alice', 'POST', '/workflows', { workflow });
  assert.equal(r.status, 202, r.text);
  const id = r.body.id as string;
  await eventually(
    async () => ((await api.call('alice', 'GET', `/workflows/${id}`)).body.approvals !== undefined ? true : undefined),
    60_000,
    `approval requests of ${id}`,
  );
  assert.equal((await api.call('bob', 'GET', `/approvals/${id}`)).status, 200);
  const approved = await api.call('bob', 'POST', `/approvals/${id}/approve`, {});
  assert.equal(approved.status, 200, approved.text);
  return id;
}
async function finished(id: string): Promise<Run> {
  return eventually(
    async () => {
      const r = await api.call('alice', 'GET', `/workflows/${id}`);
      return FINISHED.includes(r.body.status) ? (r.body as Run) : undefined;
    },
    60_000,
    `workflow ${id} to finish`,
  );
}
/** The management API as a client would read it (it serves the same port). */
async function durable(path: string): Promise<{ status: number; text: string }> {
  const res = await durableFetch(api.host, path);
  const text = await res.text();
  api.bodies.push(text);
  return { status: res.status, text };
}

/** The ways a secret could be spelled in bytes: as text, base64, base64url, hex, URL- and
 * JSON-escaped; and, when it is itself base64 of random bytes, those bytes in each spelling. */
function spellings(secret: string): Buffer[] {
  const texts = [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)];
  const text = Buffer.from(secret, 'utf8');
  const out = [
    ...texts.map((s) => Buffer.from(s, 'utf8')),
    ...[text.toString('base64'), text.toString('base64url'), text.toString('hex')].map((s) => Buffer.from(s)),
  ];
  const raw = Buffer.from(secret, 'base64');
  if (raw.length >= 16 && raw.toString('base64url') === secret.replace(/=+$/, '').replaceAll('+', '-').replaceAll('/', '_')) {
    out.push(raw, ...[raw.toString('base64'), raw.toString('base64url'), raw.toString('hex')].map((s) => Buffer.from(s)));
  }
  return out;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

test('no secret appears in clear in anything the system wrote or answered', async () => {
  // Datasets: an Azure Files one (bob, uio: a credential) and two local ones (data keys).
  const azure = await created('bob', {
    name: 'visits',
    source: { kind: 'azure-files', shareUrl: files.shareUrl('owner-share'), credential: AZURE_CREDENTIAL },
  });
  const uis = await created('alice', { name: 'uis-texts', files: { 'notes.txt': 'lorem ipsum lorem\n' } });
  const uio = await created('bob', { name: 'uio-texts', files: { 'text.txt': 'lorem lorem\n' } });
  for (const id of [azure, uis, uio]) assert.equal((await api.call('alice', 'POST', `/datasets/${id}/lease`, { ttlSeconds: 3000 })).status, 201);
  const volumes = `    volumes:\n      - {id: '${uis}', name: 'uis', path: '/data/uis'}\n      - {id: '${uio}', name: 'uio', path: '/data/uio'}\n`;

  // A run to completion: job 1 prints its environment (no token in it), job 2 fails once.
  const ok = await submit(
    `jobs:\n  - command: 'env; cat /data/uis/notes.txt /data/uio/text.txt > both.txt'\n${volumes}  - command: 'if [ -f tried ]; then wc -w both.txt > result.txt; else touch tried; exit 3; fi'\n    retries: 1\ndags:\n  - 1 >> 2\n`,
  );
  // A run canceled while its job runs.
  const canceled = await submit(`jobs:\n  - command: 'sleep 60'\n${volumes}  - command: 'echo never'\ndags:\n  - 1 >> 2\n`);
  // A run on the Azure Files dataset: the launch fetches its credential, the local backend refuses.
  const azureRun = await submit(`jobs:\n  - command: 'ls /data/visits'\n    volumes:\n      - {id: '${azure}', name: 'visits', path: '/data/visits'}\n`);

  const okRun = await finished(ok);
  assert.equal(okRun.status, 'Succeeded', JSON.stringify(okRun));
  assert.deepEqual(
    okRun.jobs.map((j) => j.attempts),
    [1, 2],
  );
  await eventually(
    async () => ((await api.call('alice', 'GET', `/workflows/${canceled}`)).body.jobs[0].status === 'Running' ? true : undefined),
    60_000,
    'the job to run',
  );
  assert.equal((await api.call('alice', 'POST', `/workflows/${canceled}/cancel`)).status, 202);
  assert.equal((await finished(canceled)).status, 'Canceled');
  const azureOutcome = await finished(azureRun);
  assert.equal(azureOutcome.status, 'Failed');
  const runs = [okRun, await finished(canceled), azureOutcome];

  // Every run cleaned up; job outputs and logs read back through the API.
  for (const run of runs) {
    await eventually(
      async () =>
        JSON.parse((await durable(`instances/${encodeURIComponent(`${run.id}:cleanup`)}`)).text || '{}').runtimeStatus === 'Completed' ? true : undefined,
      60_000,
      `cleanup of ${run.id}`,
    );
    for (const job of run.jobs) await api.call('alice', 'GET', `/workflows/${run.id}/jobs/${job.name}/logs`);
  }
  assert.match((await api.call('alice', 'GET', `/workflows/${ok}/jobs/job-1/logs`)).text, /PATH=/, 'job 1 printed its environment');
  assert.equal((await api.call(null, 'GET', '/datasets', undefined, { authorization: `Bearer ${WRONG_TOKEN}` })).status, 401);
  const anonymous = await fetch(`${api.host.url}/runtime/webhooks/durabletask/instances?code=${WRONG_TOKEN}`);
  api.bodies.push(await anonymous.text());
  assert.equal(anonymous.status, 401);

  // Every durable instance, as the management API serves it.
  const listed = await durable('instances?top=1000');
  const instanceIds = (JSON.parse(listed.text) as { instanceId: string }[]).map((i) => i.instanceId);
  assert.ok(instanceIds.length >= runs.length * 3, `instances: ${instanceIds.join(', ')}`);
  for (const id of instanceIds) await durable(`instances/${encodeURIComponent(id)}?showHistory=true&showHistoryOutput=true&showInput=true`);

  // The secrets, read through the key store adapter as the host stores them.
  const stores = await FileKeyStores.open(dataDir);
  const read = async (org: string, name: string) => {
    const value = await stores.forOrg(org).get(name);
    assert.ok(value !== undefined && value.length >= 16, `${org}/${name} is in the key store`);
    return value;
  };
  const callbackKey = await read('uis', 'workflow-callback-key');
  const masterKey = readFileSync(join(dataDir, 'keystore', 'master.key'), 'utf8').trim();
  const systemKey = durableSystemKey(dataDir);
  const tokens = runs.flatMap((run) =>
    run.jobs.flatMap((job) =>
      Array.from({ length: Math.max(job.attempts, 1) }, (_, i) => ({
        name: `callback token ${run.id}/${job.name}/${i + 1}`,
        value: callbackToken(Buffer.from(callbackKey, 'base64url'), run.id, job.name, i + 1),
      })),
    ),
  );
  // The derivation is the one in use: every token a job presented is one of them, and each
  // attempt of the successful run presented its own.
  assert.ok(presentedTokens.size >= 3, `tokens presented: ${presentedTokens.size}`);
  for (const token of presentedTokens)
    assert.ok(
      tokens.some((t) => t.value === token),
      'a presented token is one the test derived',
    );
  for (const t of tokens.filter((t) => t.name.includes(ok))) assert.ok(presentedTokens.has(t.value), `${t.name} was presented`);

  const secrets: { name: string; value: string; home?: string }[] = [
    { name: 'Azure Files credential', value: AZURE_CREDENTIAL },
    { name: 'callback key', value: callbackKey },
    { name: 'key-store master key', value: masterKey, home: join('keystore', 'master.key') },
    { name: 'durable system key', value: systemKey, home: relative(dataDir, systemKeyPath(dataDir)) },
    { name: `data key of ${azure}`, value: await read('uio', dataKeyName(azure)) },
    { name: `data key of ${uis}`, value: await read('uis', dataKeyName(uis)) },
    { name: `data key of ${uio}`, value: await read('uio', dataKeyName(uio)) },
    ...tokens,
    ...Object.entries(TOKENS).map(([who, value]) => ({ name: `bearer token of ${who}`, value })),
    { name: 'a refused bearer token', value: WRONG_TOKEN },
  ];
  assert.equal(await stores.forOrg('uio').get(credentialName(azure)), AZURE_CREDENTIAL);

  // The files twice: while the host runs (SQLite write-ahead logs still separate), and after
  // it stopped (databases checkpointed and closed, last log lines flushed).
  const running = await filesUnder(dataDir);
  assert.ok(running.some((f) => f.endsWith('-wal')) && running.some((f) => f.includes(join('runs', ok, 'jobs'))), running.join('\n'));
  const whileRunning = await Promise.all(running.map(async (f) => ({ where: relative(dataDir, f), bytes: await readFile(f).catch(() => Buffer.alloc(0)) })));
  assert.equal(await api.host.stop('SIGTERM'), 0);
  const stopped = await filesUnder(dataDir);
  // Key material that must stay in clear on this machine (the key store's master key, the
  // embedded Fabric identities' private keys) is readable by the host's user only.
  const privateFiles = stopped.filter((f) => f.startsWith(join(dataDir, 'keystore')) || f.endsWith('key.pem') || f === systemKeyPath(dataDir));
  assert.ok(privateFiles.length >= 5 && privateFiles.includes(systemKeyPath(dataDir)));
  assert.deepEqual(
    privateFiles.filter((f) => (statSync(f).mode & 0o077) !== 0).map((f) => relative(dataDir, f)),
    [],
    'group or others may read',
  );
  assert.equal(statSync(dataDir).mode & 0o077, 0, 'the data dir is private');
  const places: { where: string; bytes: Buffer }[] = [
    ...whileRunning,
    ...(await Promise.all(stopped.map(async (f) => ({ where: relative(dataDir, f), bytes: await readFile(f) })))),
    { where: 'host stdout', bytes: Buffer.from(api.host.stdout()) },
    { where: 'host stderr', bytes: Buffer.from(api.host.stderr()) },
    ...api.bodies.map((body, i) => ({ where: `response body ${i}`, bytes: Buffer.from(body) })),
  ];
  assert.ok(api.host.logs().length > 50, 'the host logged');

  const leaks: string[] = [];
  for (const secret of secrets) {
    const forms = spellings(secret.value);
    for (const place of places) {
      if (place.where === secret.home) continue;
      if (forms.some((form) => place.bytes.includes(form))) leaks.push(`${secret.name} in ${place.where}`);
    }
  }
  // The in-process client's rpc secret lives only in the host's memory: no path under the
  // rpc mount with a secret-shaped segment appears anywhere.
  const rpcPath = /durabletask\/rpc\/[A-Za-z0-9_-]{43}/;
  for (const place of places) if (rpcPath.test(place.bytes.toString('latin1'))) leaks.push(`an rpc path in ${place.where}`);
  assert.deepEqual(leaks, []);
});
