import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHostToExit } from '../../bench/support/host';
import { table } from '../../src/cli/output';
import { DatasetsApi, hostileSettings } from './harness';

/**
 * Critical items 2 and 3 of issue 12, and the adoption half of the "Low" path leaks: an
 * owner adopts the data dir (key store, durable history, system key), something inside it
 * or above it, a directory another dataset already holds, or another organization's
 * directory. Every refusal reads the same, whether the path exists or not.
 */
let api: DatasetsApi;
let root: string;
let dataDir: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'lf-sec-adopt-'));
  dataDir = join(root, 'data');
  for (const dir of ['uis/data', 'uis/other', 'uis/extra', 'uio/data']) mkdirSync(join(root, dir), { recursive: true });
  writeFileSync(join(root, 'uis', 'data', 'private.txt'), 'uis only\n');
  symlinkSync(dataDir, join(root, 'uis', 'into-data-dir'));
  // The operator allowed uis the whole tree holding the data dir: adoption must still
  // refuse the data dir and everything in it.
  api = await DatasetsApi.start(hostileSettings({ LOCAL_DATASET_ROOTS: JSON.stringify({ uis: [root], uio: [join(root, 'uio')] }) }), { dataDir });
});
after(async () => {
  await api?.host.kill();
  rmSync(root, { recursive: true, force: true });
});

const adopt = (who: 'alice' | 'alice2' | 'bob', path: string) => api.call(who, 'POST', '/datasets', { name: 'adopted', source: { kind: 'local', path } });

test('the data dir, anything inside it, anything containing it, and links to it cannot be adopted', async () => {
  // The same root serves a legitimate adoption.
  assert.equal((await adopt('alice', join(root, 'uis', 'extra'))).status, 201);
  const inside = readdirSync(dataDir).map((entry) => join(dataDir, entry));
  assert.ok(inside.length > 0, 'the data dir holds nothing yet');
  for (const path of [dataDir, ...inside, root, join(root, 'uis', 'into-data-dir'), join(root, 'uis', 'into-data-dir', 'durable'), '/']) {
    const r = await adopt('alice', path);
    assert.equal(r.status, 400, `${path} was adopted: ${r.text}`);
    assert.ok(!r.text.includes(dataDir), `the answer names the data dir: ${r.text}`);
  }
});

test('a directory already adopted (or inside or above one) cannot be adopted again', async () => {
  const first = await adopt('alice', join(root, 'uis', 'data'));
  assert.equal(first.status, 201, first.text);
  for (const [who, path] of [
    ['alice2', join(root, 'uis', 'data')],
    ['alice', join(root, 'uis')],
  ] as const) {
    const again = await adopt(who, path);
    assert.equal(again.status, 400, `${path} adopted twice: ${again.text}`);
  }
});

test("an organization adopts only under its own roots, never another's", async () => {
  const r = await adopt('bob', join(root, 'uis', 'other'));
  assert.equal(r.status, 400, r.text);
  assert.equal((await adopt('bob', join(root, 'uio', 'data'))).status, 201);
});

test('a refusal does not say whether the path exists', async () => {
  const missing = await adopt('bob', join(root, 'uio', 'no-such-dir'));
  const outside = await adopt('bob', join(root, 'uis', 'data'));
  const elsewhere = await adopt('bob', '/etc');
  assert.equal(missing.status, 400);
  assert.deepEqual(missing.body.error, outside.body.error);
  assert.deepEqual(missing.body.error, elsewhere.body.error);
});

test('the old colon-separated LOCAL_DATASET_ROOTS stops the start with one line saying how to write it', async () => {
  const r = await runHostToExit({ settings: { ...hostileSettings(), LOCAL_DATASET_ROOTS: '/srv/a:/srv/b' } });
  assert.notEqual(r.code, 0);
  const lines = r.stderr.split('\n').filter((l) => l.includes('LOCAL_DATASET_ROOTS'));
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /\{"<org>": \["<absolute dir>"/);
});

test('a dataset name with control characters is refused, and the CLI never prints one raw', async () => {
  const r = await api.call('alice', 'POST', '/datasets', { name: 'evil\u001b]0;owned\u0007\u001b[2J' });
  assert.equal(r.status, 400, r.text);
  assert.ok(
    r.body.error.details.some((d: { path: string }) => d.path === 'name'),
    r.text,
  );
  assert.equal(table([{ name: 'a\u001b[2Jb' }], [['NAME', (row) => row.name]]).includes('\u001b'), false);
});

test('an azure-files share on loopback, link-local or private addresses is refused without a connection, like an unreachable one', async (t) => {
  // A listener on loopback stands for the host's own services: adoption must not even connect.
  let connections = 0;
  const probe: Server = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  t.after(() => probe.close());
  const port = (probe.address() as { port: number }).port;
  const share = (shareUrl: string) =>
    api.call('alice', 'POST', '/datasets', { name: 'share', source: { kind: 'azure-files', shareUrl, credential: 'sv=2024&sig=x' } });
  const answers = [];
  for (const url of [
    `http://127.0.0.1:${port}/acct/share`,
    `https://localhost:${port}/acct/share`,
    `https://[::1]:${port}/acct/share`,
    'https://169.254.169.254/acct/share',
    'https://10.1.2.3/acct/share',
    'https://192.168.0.7/acct/share',
  ]) {
    const r = await share(url);
    assert.equal(r.status, 400, `${url}: ${r.text}`);
    answers.push(r.body.error);
  }
  assert.equal(connections, 0, 'the host connected to a loopback share');
  // Each reads as an unreachable share does (no name lookup to the outside is made here:
  // this machine has no network to try one on).
  for (const answer of answers) {
    assert.deepEqual(answer.details, [{ path: 'source.shareUrl', message: 'share or directory does not exist, or is not reachable with this credential' }]);
  }
});
