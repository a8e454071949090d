import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { WorkflowRecord } from '@ledgerflow/chaincode';
import { outputsSha256 } from '../../src/core/workflow/outputs';
import { newDataset } from '../integration/ledger/peerFixture';
import { accepted, ownerAndOutsider, refusedWith } from './twoOrgs';

/**
 * A dishonest lessee (uio) talks to the embedded peer's Gateway with its own identity,
 * bypassing ledgerflow's API, to release the outputs of its own run on a dataset whose
 * owner (uis) reviews results, or to record outputs that break the owner's size limit. The
 * chaincode refuses each; the owner's honest release is accepted.
 */
// mallory: uio, the lessee
// alice: uis, the owner
const p = ownerAndOutsider();

const OUTPUTS = { files: [{ path: 'out.csv', size: 500, sha256: 'b'.repeat(64) }], logs: [] };

async function run(policy: Record<string, unknown>, workflowId: string): Promise<void> {
  const dataset = newDataset({ policy: { leaseTtlSeconds: 60, maxLeaseTtlSeconds: 3600, approval: 'none', ...policy } });
  accepted(await p.alice.submit('honest', 'RegisterDataset', JSON.stringify(dataset)));
  accepted(await p.mallory.submit('honest', 'TakeLease', dataset.id, '60'));
  accepted(await p.mallory.submit('honest', 'RecordWorkflowLaunched', JSON.stringify({ workflowId, datasetIds: [dataset.id], specHash: 'c'.repeat(64) })));
}

test("the lessee cannot release its own run's outputs, whatever it names; the owner can", async () => {
  await run({ results: 'review' }, 'wf-review');
  const finish = { workflowId: 'wf-review', status: 'Succeeded', jobs: [], outputs: OUTPUTS };
  const done = JSON.parse(accepted(await p.mallory.submit('honest', 'RecordWorkflowFinished', JSON.stringify(finish)))) as WorkflowRecord;
  assert.equal(done.results?.state, 'pending-review');
  const release = JSON.stringify({ decision: 'release', outputsSha256: outputsSha256(OUTPUTS) });
  refusedWith(await p.mallory.submit('honest', 'DecideResults', 'wf-review', release), 'forbidden');
  refusedWith(
    await p.mallory.submit('honest', 'DecideResults', 'wf-review', JSON.stringify({ decision: 'release', outputsSha256: 'e'.repeat(64) })),
    'forbidden',
  );
  refusedWith(
    await p.mallory.submit('honest', 'DecideResults', 'wf-review', JSON.stringify({ decision: 'release', outputsSha256: outputsSha256(OUTPUTS), org: 'uis' })),
    'validation_failed',
  );
  // Nor can it rewrite the finish to swap the outputs under review.
  refusedWith(await p.mallory.submit('honest', 'RecordWorkflowFinished', JSON.stringify({ ...finish, outputs: { files: [], logs: [] } })), 'conflict');
  const released = JSON.parse(accepted(await p.alice.submit('honest', 'DecideResults', 'wf-review', release))) as WorkflowRecord;
  assert.equal(released.results?.state, 'released');
  assert.equal(released.results?.reviews[0]?.decidedBy?.user, 'alice');
});

test("outputs over the owner's maxResultBytes cannot be recorded as a success", async () => {
  await run({ maxResultBytes: 100 }, 'wf-limit');
  const finish = (status: string) => JSON.stringify({ workflowId: 'wf-limit', status, jobs: [], outputs: OUTPUTS });
  refusedWith(await p.mallory.submit('honest', 'RecordWorkflowFinished', finish('Succeeded')), 'validation_failed');
  const failed = JSON.parse(accepted(await p.mallory.submit('honest', 'RecordWorkflowFinished', finish('Failed')))) as WorkflowRecord;
  assert.equal(failed.results?.state, 'rejected');
});
