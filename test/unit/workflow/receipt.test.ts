import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildReceipt,
  chainBreak,
  manifestSha256,
  receiptInconsistency,
  receiptTransactions,
  shownValue,
  summarizeRun,
  type TrailWrite,
} from '../../../src/core/receipt';
import { verifyReceipt } from '../../../src/app/workflows/receipts';
import type { CommittedTransaction, LedgerSession } from '../../../src/ports/ledger';

/** Receipt entries are generic: records the chaincode adds later (outputs, result reviews)
 * get a kind, land in the summary and join the hash chain without this code knowing them. */
const key = (type: string, ...attributes: string[]) => `\u0000${type}\u0000${attributes.join('\u0000')}\u0000`;
const HASH = 'a'.repeat(64);
const FILES = 'b'.repeat(64);
const outputs = { files: [{ path: 'out.txt', size: 3, sha256: 'c'.repeat(64) }], logs: [{ job: 'count', size: 10, sha256: 'd'.repeat(64) }] };
let block = 0;
const write = (k: string, value: unknown, extra: Partial<TrailWrite> = {}): TrailWrite => ({
  key: k,
  txId: `${String(++block).padStart(2, '0')}${'0'.repeat(62)}`,
  blockNumber: block,
  timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, block)).toISOString(),
  isDelete: value === null,
  value: value === null ? '' : JSON.stringify(value),
  ...extra,
});
const launched = { workflowId: 'wf-1', datasetIds: ['ds1'], specHash: HASH, filesHash: FILES, status: 'Running', launchedBy: { org: 'uis', user: 'alice' } };
const finished = { ...launched, status: 'Succeeded', finishedAt: 'x', jobs: [{ name: 'count', status: 'Succeeded', exitCode: 0 }], outputs };
const approval = (state: string, specHash = HASH) => ({ workflowId: 'wf-1', datasetId: 'ds1', owner: { org: 'uio' }, state, specHash, filesHash: FILES });

function trail(overrides: { approvedSpec?: string; releasedOutputs?: unknown } = {}): TrailWrite[] {
  block = 0;
  return [
    write(key('lease', 'ds1'), { datasetId: 'ds1', holder: { org: 'uis', user: 'alice' }, takenAt: 't0', expiresAt: 't9' }),
    write(key('approval', 'wf-1', 'ds1'), approval('pending')),
    write(key('approval', 'wf-1', 'ds1'), approval('approved', overrides.approvedSpec)),
    write(key('workflow', 'wf-1'), launched),
    write(key('workflow', 'wf-1'), finished),
    write(key('workflow', 'wf-1', 'review', 'ds1'), { datasetId: 'ds1', state: 'released', outputs: overrides.releasedOutputs ?? outputs }),
    write(key('workflow', 'wf-1'), { ...finished, cleanedUpAt: 'y' }),
    write(key('lease', 'ds1'), null),
  ];
}

test('every write gets a kind, from its key and what changed, including record kinds added later', () => {
  assert.deepEqual(
    receiptTransactions(trail()).map((t) => t.kind),
    ['lease-taken', 'approval-requested', 'approval-approved', 'launch', 'finish', 'workflow-review-released', 'cleanup', 'lease-ended'],
  );
});

test('the summary names the leases, approvals, launch, jobs, finish, outputs, result release and cleanup', () => {
  const run = summarizeRun(receiptTransactions(trail()));
  assert.deepEqual(run.datasetIds, ['ds1']);
  assert.equal(run.launch?.specHash, HASH);
  assert.equal(run.finish?.status, 'Succeeded');
  assert.deepEqual(run.jobs, finished.jobs);
  assert.deepEqual({ files: run.outputs?.files, logs: run.outputs?.logs }, outputs);
  assert.equal(run.outputs?.blockNumber, 5, 'recorded first at finish');
  assert.deepEqual(
    run.reviews.map((r) => [r.kind, r.state, r.datasetId]),
    [['workflow-review-released', 'released', 'ds1']],
  );
  assert.equal(run.cleanup?.blockNumber, 7);
  assert.deepEqual(
    run.leaseEnds.map((l) => l.datasetId),
    ['ds1'],
  );
  assert.equal(chainBreak(receiptTransactions(trail())), undefined);
});

test('the hash chain breaks where an approval names another spec, or a release other outputs than the finish', () => {
  assert.match(
    chainBreak(receiptTransactions(trail({ approvedSpec: 'e'.repeat(64) }))) ?? '',
    /approval of dataset ds1 .* names spec hash e{64}, the launch .* ran a{64}/,
  );
  const other = { ...outputs, files: [{ ...outputs.files[0], sha256: 'f'.repeat(64) }] };
  assert.match(
    chainBreak(receiptTransactions(trail({ releasedOutputs: other }))) ?? '',
    /outputs recorded by tx 06.* \(workflow-review-released\) differ from those recorded by tx 05/,
  );
});

test('a value carrying a dataset location or a credential, even sealed, is shown only as its sha256', () => {
  assert.deepEqual(shownValue('{"a":1}'), { value: { a: 1 } });
  const sealed = shownValue(JSON.stringify({ id: 'ds1', sealedLocation: 'c2VhbGVk' }));
  assert.ok('valueSha256' in sealed && /^[0-9a-f]{64}$/.test(sealed.valueSha256));
  assert.ok('valueSha256' in shownValue(JSON.stringify({ nested: [{ credentialRef: 'x' }] })));
  assert.ok('valueSha256' in shownValue('not json'));
});

/** A ledger that holds exactly the trail's writes, one transaction per write. */
function ledgerOf(writes: TrailWrite[], change: (tx: CommittedTransaction) => void = () => undefined): LedgerSession {
  const txs = new Map(
    writes.map((w) => {
      const tx: CommittedTransaction = {
        txId: w.txId,
        blockNumber: w.blockNumber,
        validationCode: 0,
        timestamp: w.timestamp,
        creatorMspId: 'UisMSP',
        writes: [{ namespace: 'ledgerflow', key: w.key, isDelete: w.isDelete, value: Buffer.from(w.value) }],
      };
      change(tx);
      return [w.txId, tx];
    }),
  );
  const trailOf = writes.map(({ blockNumber: _b, ...w }) => w);
  return { transaction: async (txId: string) => txs.get(txId), workflowTrail: async () => trailOf } as unknown as LedgerSession;
}

test('verification: an honest receipt passes; an invalidated transaction or a hidden value that differs fails', async () => {
  const writes = trail();
  const receipt = buildReceipt('wf-1', { channel: 'ledgerflow', chaincode: 'ledgerflow' }, writes);
  assert.deepEqual(await verifyReceipt(receipt, ledgerOf(writes), 'ledgerflow'), { ok: true, transactions: writes.length });
  const invalid = await verifyReceipt(
    receipt,
    ledgerOf(writes, (tx) => (tx.validationCode = 11)),
    'ledgerflow',
  );
  assert.equal(invalid.ok, false);
  assert.match(!invalid.ok ? invalid.mismatch : '', /transactions\[0\] .*: the transaction is on the ledger but not VALID \(validation code 11\)/);
  const shorter = { ...receipt, transactions: receipt.transactions.filter((t) => t.kind !== 'approval-requested') };
  shorter.run = summarizeRun(shorter.transactions);
  const omitted = await verifyReceipt(shorter, ledgerOf(writes), 'ledgerflow');
  assert.match(!omitted.ok ? omitted.mismatch : '', /transactions: the receipt leaves out tx 02.* in block 2, which wrote/);
  const elsewhere = await verifyReceipt(receipt, ledgerOf(writes), 'other');
  assert.match(!elsewhere.ok ? elsewhere.mismatch : '', /ledger\.channel: the receipt names channel ledgerflow, the ledger asked is other/);
  const hiddenWrites = [write(key('workflow', 'wf-1', 'secret'), { sealedLocation: 'x' })];
  const hidden = buildReceipt('wf-1', { channel: 'ledgerflow', chaincode: 'ledgerflow' }, hiddenWrites);
  assert.ok(hidden.transactions[0]?.valueSha256 !== undefined && hidden.transactions[0].value === undefined);
  assert.deepEqual(await verifyReceipt(hidden, ledgerOf(hiddenWrites), 'ledgerflow'), { ok: true, transactions: 1 });
  const lied = { ...hidden, transactions: [{ ...hidden.transactions[0]!, valueSha256: '0'.repeat(64) }] };
  const check = await verifyReceipt(lied, ledgerOf(hiddenWrites), 'ledgerflow');
  assert.match(!check.ok ? check.mismatch : '', /valueSha256: the receipt says 0{64}, the value written hashes to/);
});

test('the checks that need only the receipt (run by the web console too): kinds, summary, hash chain', () => {
  const receipt = buildReceipt('wf-1', { channel: 'ledgerflow', chaincode: 'ledgerflow' }, trail());
  assert.equal(receiptInconsistency(receipt), undefined);
  const relabelled = { ...receipt, transactions: receipt.transactions.map((t, i) => (i === 0 ? { ...t, kind: 'launch' } : t)) };
  assert.match(receiptInconsistency(relabelled) ?? '', /^transactions\[0\] \(tx .*\)\.kind: the receipt says launch, the value written makes it /);
  const summary = { ...receipt, run: { ...receipt.run, datasetIds: ['other'] } };
  assert.match(receiptInconsistency(summary) ?? '', /^run\.datasetIds\[0\]: the receipt says "other", its transactions say "ds1"/);
  const broken = buildReceipt('wf-1', { channel: 'ledgerflow', chaincode: 'ledgerflow' }, trail({ approvedSpec: 'e'.repeat(64) }));
  assert.match(receiptInconsistency(broken) ?? '', /^hash chain: the approval of dataset ds1/);
  assert.match(receiptInconsistency({ ...receipt, format: 'x' as never }) ?? '', /^format: not a ledgerflow\.receipt\.v1 receipt/);
});

/** Output review as the chaincode records it (issue #14, part 1): the manifest and its digest
 * on the workflow record at finish, each owner's decision on the same key naming that digest. */
function reviewedTrail(decidedDigest?: string, recordedDigest?: string): TrailWrite[] {
  block = 0;
  const digest = manifestSha256(outputs);
  const reviewer = { datasetId: 'ds1', org: 'uio', mspId: 'UioMSP' };
  const done = { ...launched, reviewers: [reviewer], status: 'Succeeded', finishedAt: 'x', jobs: [], outputs, outputsSha256: recordedDigest ?? digest };
  const pending = { ...done, results: { state: 'pending-review', reviews: [{ ...reviewer, state: 'pending' }] } };
  const released = {
    ...done,
    results: { state: 'released', reviews: [{ ...reviewer, state: 'released', decidedAt: 'z', outputsSha256: decidedDigest ?? digest }] },
  };
  return [
    write(key('workflow', 'wf-1'), { ...launched, reviewers: [reviewer] }),
    write(key('workflow', 'wf-1'), pending),
    write(key('workflow', 'wf-1'), released),
    write(key('workflow', 'wf-1'), { ...released, cleanedUpAt: 'y' }),
  ];
}

test('output review on the workflow record: finish with the manifest, a release naming its digest, cleanup', () => {
  const transactions = receiptTransactions(reviewedTrail());
  assert.deepEqual(
    transactions.map((t) => t.kind),
    ['launch', 'finish', 'results-released', 'cleanup'],
  );
  const run = summarizeRun(transactions);
  assert.equal(run.outputs?.sha256, manifestSha256(outputs));
  assert.equal(run.outputs?.blockNumber, 2);
  assert.equal(run.results, 'released');
  assert.deepEqual(
    run.reviews.map((r) => [r.kind, r.state, r.datasetId, r.blockNumber]),
    [['results-released', 'released', 'ds1', 3]],
  );
  assert.equal(chainBreak(transactions), undefined);
  assert.match(
    chainBreak(receiptTransactions(reviewedTrail('9'.repeat(64)))) ?? '',
    /the released outputs of dataset ds1 \(tx 03.*\) name sha256 9{64}, those recorded at finish \(tx 02/,
  );
  assert.match(
    chainBreak(receiptTransactions(reviewedTrail(undefined, '8'.repeat(64)))) ?? '',
    /the outputs recorded by tx 02.* \(finish\) hash to [0-9a-f]{64}, the record names 8{64}/,
  );
});
