import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { HistoryEntry, OutputManifest, WorkflowRecord } from '@ledgerflow/chaincode';
import { canonicalJson } from '../../../src/core/workflow/hash';
import { outputsSha256 } from '../../../src/core/workflow/outputs';
import { createIdentity, type TestIdentity } from '../../helpers/identities';
import { errorOf, LedgerHarness, newDataset } from '../../helpers/ledgerHarness';

/** Owner control of outputs on the ledger: the manifest recorded at finish, who may decide,
 * on which hash, once. The chaincode decides all of it from the submitter's certificate. */

let alice: TestIdentity; // uis, owner of dataset-01 (review)
let carol: TestIdentity; // uis
let erin: TestIdentity; // uib, owner of dataset-02 (review)
let bob: TestIdentity; // ntnu, lessee
let mallory: TestIdentity; // evil, a third organization
const SPEC = 'a'.repeat(64);
const FILES = 'f'.repeat(64);
const OUTPUTS: OutputManifest = {
  files: [{ path: 'out/result.csv', size: 120, sha256: 'b'.repeat(64) }],
  logs: [{ job: 'job-1', size: 30, sha256: 'c'.repeat(64) }],
};
const HASH = outputsSha256(OUTPUTS);

before(async () => {
  [alice, carol, erin, bob, mallory] = await Promise.all([
    createIdentity('alice', 'uis'),
    createIdentity('carol', 'uis'),
    createIdentity('erin', 'uib'),
    createIdentity('bob', 'ntnu'),
    createIdentity('mallory', 'evil'),
  ]);
});

const policy = (extra: Record<string, unknown>) => ({ policy: { leaseTtlSeconds: 60, maxLeaseTtlSeconds: 600, approval: 'none', ...extra } });

/** Bob ran wf-1 on the given datasets (alice's dataset-01, erin's dataset-02). */
async function launched(p1: Record<string, unknown>, p2?: Record<string, unknown>): Promise<LedgerHarness> {
  const h = new LedgerHarness();
  await h.ok(alice, 'RegisterDataset', newDataset('dataset-01', policy(p1)));
  await h.ok(bob, 'TakeLease', 'dataset-01', '0');
  const ids = ['dataset-01'];
  if (p2 !== undefined) {
    await h.ok(erin, 'RegisterDataset', newDataset('dataset-02', policy(p2)));
    await h.ok(bob, 'TakeLease', 'dataset-02', '0');
    ids.push('dataset-02');
  }
  await h.ok(bob, 'RecordWorkflowLaunched', JSON.stringify({ workflowId: 'wf-1', datasetIds: ids, specHash: SPEC, filesHash: FILES }));
  return h;
}

const finish = (status = 'Succeeded', outputs: OutputManifest | null = OUTPUTS) =>
  JSON.stringify({ workflowId: 'wf-1', status, jobs: [{ name: 'job-1', status, exitCode: status === 'Succeeded' ? 0 : 1 }], ...(outputs ? { outputs } : {}) });
const release = (hash = HASH) => JSON.stringify({ decision: 'release', outputsSha256: hash });
const reject = (reason: string, hash = HASH) => JSON.stringify({ decision: 'reject', outputsSha256: hash, reason });

describe('the output manifest', () => {
  test('an unreviewed run records its outputs and their hash at finish, on the workflow key', async () => {
    const h = await launched({});
    const done = await h.ok<WorkflowRecord>(bob, 'RecordWorkflowFinished', finish());
    assert.deepEqual(done.outputs, OUTPUTS);
    assert.equal(done.outputsSha256, HASH);
    // The app and the chaincode hash the same canonical JSON.
    assert.equal(HASH, createHash('sha256').update(canonicalJson(OUTPUTS)).digest('hex'));
    assert.deepEqual(done.results, { state: 'released', reviews: [] });
    assert.deepEqual(await h.query(bob, 'ReadWorkflow', 'wf-1'), done);
    // A retry with the same outputs is a no-op; other outputs are a conflict.
    await h.ok(bob, 'RecordWorkflowFinished', finish());
    const other = { ...OUTPUTS, files: [] };
    assert.equal(errorOf(await h.submit(bob, 'RecordWorkflowFinished', finish('Succeeded', other))).code, 'conflict');
  });

  test("the launcher's own dataset is not reviewed by its own organization", async () => {
    const h = new LedgerHarness();
    await h.ok(alice, 'RegisterDataset', newDataset('dataset-01', policy({ results: 'review' })));
    await h.ok(carol, 'TakeLease', 'dataset-01', '0');
    const run = await h.ok<WorkflowRecord>(carol, 'RecordWorkflowLaunched', JSON.stringify({ workflowId: 'wf-1', datasetIds: ['dataset-01'], specHash: SPEC }));
    assert.equal(run.reviewers, undefined);
  });

  test('outputs over the smallest maxResultBytes cannot succeed, and are rejected at once', async () => {
    const h = await launched({ maxResultBytes: 1000 }, { maxResultBytes: 100 });
    const refused = errorOf(await h.submit(bob, 'RecordWorkflowFinished', finish('Succeeded')));
    assert.equal(refused.code, 'validation_failed');
    assert.match(refused.message, /150 bytes, more than maxResultBytes \(100\)/);
    const done = await h.ok<WorkflowRecord>(bob, 'RecordWorkflowFinished', finish('Failed'));
    assert.equal(done.results?.state, 'rejected');
    assert.match(done.results?.reason ?? '', /maxResultBytes/);
  });

  test('a reviewed run finished without a manifest withholds its outputs', async () => {
    const h = await launched({ results: 'review' });
    const done = await h.ok<WorkflowRecord>(bob, 'RecordWorkflowFinished', finish('Failed', null));
    assert.equal(done.results?.state, 'rejected');
  });
});

describe('decisions on the outputs', () => {
  test('a reviewed run is pending review until every reviewing owner released it', async () => {
    const h = await launched({ results: 'review' }, { results: 'review' });
    const done = await h.ok<WorkflowRecord>(bob, 'RecordWorkflowFinished', finish());
    assert.equal(done.results?.state, 'pending-review');
    assert.deepEqual(
      done.results?.reviews.map((r) => [r.datasetId, r.org, r.state]),
      [
        ['dataset-01', 'uis', 'pending'],
        ['dataset-02', 'uib', 'pending'],
      ],
    );
    const first = await h.ok<WorkflowRecord>(carol, 'DecideResults', 'wf-1', release()); // any member of the owner organization
    assert.equal(first.results?.state, 'pending-review');
    const review = first.results!.reviews[0]!;
    assert.equal(review.state, 'released');
    assert.equal(review.decidedBy?.user, 'carol');
    assert.equal(review.decidedAt, h.now.toISOString()); // the transaction time
    assert.equal(review.outputsSha256, HASH);
    const second = await h.ok<WorkflowRecord>(erin, 'DecideResults', 'wf-1', release());
    assert.equal(second.results?.state, 'released');
    // Each decision is in the dataset's history, with the outputs it released.
    const history = await h.query<HistoryEntry[]>(alice, 'DatasetHistory', 'dataset-01');
    const entry = history.find((e) => e.action === 'results-released')!;
    assert.deepEqual((entry.value as WorkflowRecord).outputs, OUTPUTS);
  });

  test('one rejection rejects, with its reason', async () => {
    const h = await launched({ results: 'review' }, { results: 'review' });
    await h.ok(bob, 'RecordWorkflowFinished', finish());
    await h.ok(alice, 'DecideResults', 'wf-1', release());
    const rejected = await h.ok<WorkflowRecord>(erin, 'DecideResults', 'wf-1', reject('names in the output'));
    assert.equal(rejected.results?.state, 'rejected');
    assert.equal(rejected.results?.reviews[1]?.reason, 'names in the output');
  });

  test('the requester, a third organization and a non-reviewing owner cannot decide', async () => {
    const h = await launched({ results: 'review' }, {});
    await h.ok(bob, 'RecordWorkflowFinished', finish());
    for (const who of [bob, mallory, erin]) {
      const err = errorOf(await h.submit(who, 'DecideResults', 'wf-1', release()));
      assert.equal(err.code, 'forbidden', who.user);
    }
    // Nothing in the arguments can claim another identity: the decision schema takes none.
    assert.equal(
      errorOf(await h.submit(bob, 'DecideResults', 'wf-1', JSON.stringify({ decision: 'release', outputsSha256: HASH, by: 'alice' }))).code,
      'validation_failed',
    );
  });

  test('a decision is taken once (409), only after the finish (409), and only on the recorded hash', async () => {
    const h = await launched({ results: 'review' });
    assert.equal(errorOf(await h.submit(alice, 'DecideResults', 'wf-1', release())).code, 'conflict'); // still running
    await h.ok(bob, 'RecordWorkflowFinished', finish());
    const wrong = errorOf(await h.submit(alice, 'DecideResults', 'wf-1', release('d'.repeat(64))));
    assert.equal(wrong.code, 'conflict');
    assert.match(wrong.message, /differ from those recorded at finish/);
    await h.ok(alice, 'DecideResults', 'wf-1', release());
    assert.equal(errorOf(await h.submit(alice, 'DecideResults', 'wf-1', release())).code, 'conflict');
    assert.equal(errorOf(await h.submit(carol, 'DecideResults', 'wf-1', reject('too late'))).code, 'conflict');
    assert.equal(errorOf(await h.submit(alice, 'DecideResults', 'wf-2', release())).code, 'not_found');
  });
});
