import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { eventually } from '../../../bench/support/host';
import { workflowReceipt, workflowView, type WorkflowReceipt } from '../../../src/api/schemas';
import { summarizeRun } from '../../../src/core/receipt';
import { ledgerFile } from '../../../src/ledger-peer/peer';
import { runCli } from '../../helpers/cli';
import { DatasetsApi, TOKENS } from '../datasets/client';

/**
 * A run's receipt through the real host: alice (uis) runs a job on bob's (uio) dataset, which
 * bob adopted from a local directory and approves; the receipt lists every ledger write of
 * the run with its block, the requester and the owner read it, nobody else does, and it
 * holds neither the dataset's source path nor its sealed location. `ledgerflow receipt
 * verify` (a subprocess asking the embedded peer with an organization's identity) passes on
 * it and fails, naming the mismatch, on a changed field, a changed value, a transaction that
 * is not on the ledger, and a changed downloaded file.
 */
let api: DatasetsApi;
let roots: string;
let work: string;
let source: string;
let datasetId = '';
let runId = '';
let receipt: WorkflowReceipt;
let receiptText = '';

const cliEnv = (token: string) => ({ LEDGERFLOW_ENDPOINT: `${api.host.url}/api`, LEDGERFLOW_TOKEN: token, LEDGERFLOW_CONFIG: join(work, 'none.json') });
const verify = (file: string, ...extra: string[]) =>
  runCli(['receipt', 'verify', file, '--data-dir', api.host.dataDir, ...extra], { LEDGERFLOW_CONFIG: join(work, 'none.json') });

before(async () => {
  roots = await mkdtemp(join(tmpdir(), 'lf-receipt-roots-'));
  work = await mkdtemp(join(tmpdir(), 'lf-receipt-'));
  source = join(roots, 'survey-source-directory');
  await mkdir(source);
  await writeFile(join(source, 'a.txt'), 'lorem ipsum lorem\n');
  api = await DatasetsApi.start({ COMPUTE: 'local', WORKFLOW_STATUS_POLL_SECONDS: '2', LOCAL_DATASET_ROOTS: JSON.stringify({ uio: [roots] }) });
  const registered = await api.call('bob', 'POST', '/datasets', { name: 'survey', source: { kind: 'local', path: source } });
  assert.equal(registered.status, 201, registered.text);
  datasetId = registered.body.id;
  assert.equal((await api.call('alice', 'POST', `/datasets/${datasetId}/lease`, { ttlSeconds: 3000 })).status, 201);
  const workflow = `jobs:\n  - name: count\n    command: 'sh count.sh'\n    volumes:\n      - {id: '${datasetId}', name: 'survey', path: '/data/survey'}\n`;
  const submitted = await api.call('alice', 'POST', '/workflows', { workflow, files: { 'count.sh': 'grep -o lorem /data/survey/a.txt | wc -l > out.txt\n' } });
  assert.equal(submitted.status, 202, submitted.text);
  runId = submitted.body.id;
  // The owner learns of the run from the ledger's approval request, which the run records
  // just after it starts awaiting approval: wait until bob can see it, as an owner would.
  await eventually(async () => ((await api.call('bob', 'GET', `/approvals/${runId}`)).status === 200 ? true : undefined), 60_000, 'the approval request');
  assert.equal((await api.call('bob', 'POST', `/approvals/${runId}/approve`, { comment: 'ok' })).status, 200);
  const done = await eventually(
    async () => {
      const view = workflowView.parse((await api.call('alice', 'GET', `/workflows/${runId}`)).body);
      return ['Succeeded', 'Failed', 'Canceled'].includes(view.status) ? view : undefined;
    },
    120_000,
    'the run to finish',
  );
  assert.equal(done.status, 'Succeeded', JSON.stringify(done));
  // Cleanup is recorded after the finish, by the cleanup queue.
  receipt = await eventually(
    async () => {
      const r = await api.call('alice', 'GET', `/workflows/${runId}/receipt`);
      assert.equal(r.status, 200, r.text);
      const parsed = workflowReceipt.parse(r.body);
      return parsed.run.cleanup === null ? undefined : parsed;
    },
    60_000,
    'the cleanup to be on the ledger',
  );
  const saved = await runCli(['workflows', 'receipt', runId, '-o', join(work, 'receipt.json')], cliEnv(TOKENS.alice));
  assert.equal(saved.code, 0, saved.stderr);
  receiptText = await readFile(join(work, 'receipt.json'), 'utf8');
});
after(async () => {
  await api?.host.kill();
  await rm(roots, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

test('the receipt names every ledger write of the run with its block: lease, approval, launch, finish, cleanup', () => {
  assert.deepEqual(
    receipt.transactions.map((t) => t.kind),
    ['lease-taken', 'approval-requested', 'approval-approved', 'launch', 'finish', 'cleanup'],
  );
  const blocks = receipt.transactions.map((t) => t.blockNumber);
  assert.deepEqual(
    blocks,
    [...blocks].sort((a, b) => a - b),
    'in ledger order',
  );
  assert.ok(receipt.transactions.every((t) => /^[0-9a-f]{64}$/.test(t.txId) && t.blockNumber > 0));
  const { run } = receipt;
  assert.equal(run.leases[0]?.datasetId, datasetId);
  assert.equal(run.approvals.at(-1)?.state, 'approved');
  assert.equal(run.approvals.at(-1)?.specHash, run.launch?.specHash);
  assert.equal(run.approvals.at(-1)?.filesHash, run.launch?.filesHash);
  assert.deepEqual(run.launch?.datasetIds, [datasetId]);
  assert.equal(run.launch?.backend, 'local');
  assert.equal(run.launch?.images, undefined, 'the local sandbox runs no image');
  assert.equal(run.finish?.status, 'Succeeded');
  assert.deepEqual(run.jobs, [{ name: 'count', status: 'Succeeded', exitCode: 0 }]);
  assert.deepEqual(workflowReceipt.parse(JSON.parse(receiptText)), receipt, 'the CLI saves what the API answers');
});

test("the requester's and the owner's organizations read it; another organization gets the 404 every workflow route gives it", async () => {
  const owner = await api.call('bob', 'GET', `/workflows/${runId}/receipt`);
  assert.equal(owner.status, 200, owner.text);
  assert.deepEqual(workflowReceipt.parse(owner.body).transactions, receipt.transactions);
  const stranger = await api.call('carol', 'GET', `/workflows/${runId}/receipt`);
  const strangerStatus = await api.call('carol', 'GET', `/workflows/${runId}`);
  assert.equal(stranger.status, 404);
  assert.deepEqual(stranger.body, strangerStatus.body);
  assert.equal((await api.call(null, 'GET', `/workflows/${runId}/receipt`)).status, 401);
  assert.equal((await api.call('carol', 'GET', `/workflows/no-such-run/receipt`)).status, 404);
});

test('the receipt holds no dataset location, sealed or not, and no token', () => {
  const db = new Database(ledgerFile(api.host.dataDir), { readonly: true, fileMustExist: true });
  let sealed: string;
  try {
    const row = db.prepare<[Buffer], { value: Buffer }>("SELECT value FROM state WHERE ns = 'ledgerflow' AND key = ?").get(Buffer.from(`dataset:${datasetId}`));
    sealed = (JSON.parse(row!.value.toString('utf8')) as { sealedLocation: string }).sealedLocation;
  } finally {
    db.close();
  }
  assert.ok(sealed.length > 20);
  for (const text of [receiptText, JSON.stringify(receipt)]) {
    assert.ok(!text.includes(source), 'the source path');
    assert.ok(!text.includes('survey-source-directory'), 'any part of the source path');
    assert.ok(!text.includes(sealed), 'the sealed location');
    assert.ok(!text.includes(sealed.slice(0, 16)), 'a piece of the sealed location');
    assert.ok(!text.includes('lorem ipsum'), 'the data');
    for (const token of Object.values(TOKENS)) assert.ok(!text.includes(token), 'a token');
  }
});

test('receipt verify passes on the honest receipt, asking the ledger with an organization identity', async () => {
  const result = await verify(join(work, 'receipt.json'), '--json');
  assert.equal(result.code, 0, result.stderr);
  const out = result.json();
  assert.equal(out.ok, true);
  assert.equal(out.transactions, receipt.transactions.length);
  assert.equal(out.as.endsWith('@uis'), true, 'as the requester organization by default');
  const asOwner = await verify(join(work, 'receipt.json'), '--org', 'uio');
  assert.equal(asOwner.code, 0, asOwner.stderr);
});

async function tampered(name: string, change: (r: WorkflowReceipt) => void): Promise<string> {
  const copy = JSON.parse(receiptText) as WorkflowReceipt;
  change(copy);
  const file = join(work, `${name}.json`);
  await writeFile(file, JSON.stringify(copy, null, 2));
  return file;
}

test('receipt verify fails naming the first mismatch: a changed summary field, a changed value, a block, a transaction not on the ledger', async () => {
  const cases: [string, (r: WorkflowReceipt) => void, RegExp][] = [
    [
      'spec-hash',
      (r) => {
        r.run.launch!.specHash = 'f'.repeat(64);
      },
      /run\.launch\.specHash: the receipt says "f{64}", its transactions say "[0-9a-f]{64}"/,
    ],
    [
      'finish-status',
      (r) => {
        const finish = r.transactions.find((t) => t.kind === 'finish')!;
        (finish.value as { status: string }).status = 'Failed';
      },
      /transactions\[4\] \(tx [0-9a-f]{64}, finish\)\.value\.status: the receipt says "Failed", the ledger says "Succeeded"/,
    ],
    [
      'block',
      (r) => {
        r.transactions[3]!.blockNumber += 1;
      },
      /transactions\[3\] \(tx [0-9a-f]{64}, launch\)\.blockNumber: the receipt says \d+, the ledger has it in block \d+/,
    ],
    [
      'unknown-tx',
      (r) => {
        r.transactions[1]!.txId = 'e'.repeat(64);
      },
      /transactions\[1\] \(tx e{64}, approval-requested\): no such transaction on the ledger/,
    ],
    [
      'left-out',
      (r) => {
        // A consistent receipt that leaves a transaction out: only the ledger's trail shows it.
        r.transactions = r.transactions.filter((t) => t.kind !== 'approval-requested');
        r.run = summarizeRun(r.transactions);
      },
      /transactions: the receipt leaves out tx [0-9a-f]{64} in block \d+, which wrote/,
    ],
    [
      'other-key',
      (r) => {
        r.transactions[0]!.key = r.transactions[3]!.key;
      },
      /transactions\[0\] \(tx [0-9a-f]{64}, lease-taken\)\.key: the transaction wrote no key/,
    ],
  ];
  for (const [name, change, expected] of cases) {
    const result = await verify(await tampered(name, change));
    assert.equal(result.code, 1, `${name}: ${result.stdout}${result.stderr}`);
    assert.match(result.stderr, /error: receipt_mismatch: /, name);
    assert.match(result.stderr, expected, name);
  }
});

test('receipt verify --files checks downloaded files against the recorded output hashes', async () => {
  const files = join(work, 'downloads');
  await mkdir(files, { recursive: true });
  const content = await api.call('alice', 'GET', `/workflows/${runId}/files/out.txt`);
  assert.equal(content.status, 200, content.text);
  await writeFile(join(files, 'out.txt'), content.text);
  const result = await verify(join(work, 'receipt.json'), '--files', files);
  if (receipt.run.outputs === null) {
    // Outputs are recorded at finish by output review (issue #14, part 1); until then a
    // receipt has none, and --files says it cannot check rather than passing.
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stderr, /files: the receipt records no outputs/);
    return;
  }
  assert.equal(result.code, 0, result.stderr);
  await writeFile(join(files, 'out.txt'), `${content.text}tampered\n`);
  const changed = await verify(join(work, 'receipt.json'), '--files', files);
  assert.equal(changed.code, 1, changed.stdout);
  assert.match(changed.stderr, /files: out\.txt has sha256 [0-9a-f]{64} .*the ledger recorded/);
});
