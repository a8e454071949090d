import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DatasetRecord, WorkflowRecord } from '@ledgerflow/chaincode';
import { newDataset } from '../integration/ledger/peerFixture';
import { accepted, ownerAndOutsider, refusedWith } from './twoOrgs';

/**
 * A member of another organization (uio) calls UpdateDatasetContent on a dataset of uis
 * directly through the peer's Gateway, bypassing ledgerflow's API, and names itself the
 * owner in the arguments: the chaincode takes the owner from the submitter's identity and
 * refuses. The owner's own push is accepted once per version number; the launch record
 * names the version from the ledger, whatever the launcher sends.
 */
// mallory: uio, not the owner
// alice: uis, the owner
const p = ownerAndOutsider();

const HASH = 'a'.repeat(64);

test('only the owner organization adds a content version; the next number only', async () => {
  const dataset = newDataset({ policy: { leaseTtlSeconds: 60, maxLeaseTtlSeconds: 3600, approval: 'none' } });
  const registered = JSON.parse(accepted(await p.alice.submit('honest', 'RegisterDataset', JSON.stringify(dataset)))) as DatasetRecord;
  assert.equal(registered.version, 1);

  refusedWith(await p.mallory.submit('honest', 'UpdateDatasetContent', dataset.id, JSON.stringify({ version: 2, contentHash: HASH })), 'forbidden');
  // A forged owner field is no argument the contract takes.
  refusedWith(
    await p.mallory.submit('honest', 'UpdateDatasetContent', dataset.id, JSON.stringify({ version: 2, contentHash: HASH, owner: { org: 'uis' } })),
    'validation_failed',
  );
  refusedWith(await p.alice.submit('honest', 'UpdateDatasetContent', dataset.id, JSON.stringify({ version: 3, contentHash: HASH })), 'conflict');

  const updated = JSON.parse(
    accepted(await p.alice.submit('honest', 'UpdateDatasetContent', dataset.id, JSON.stringify({ version: 2, contentHash: HASH }))),
  ) as DatasetRecord;
  assert.equal(updated.version, 2);
  assert.equal(updated.contentHash, HASH);
  // The same number again (a racing push) is refused.
  refusedWith(await p.alice.submit('honest', 'UpdateDatasetContent', dataset.id, JSON.stringify({ version: 2, contentHash: 'b'.repeat(64) })), 'conflict');

  // The launch record's versions come from the ledger; a launcher's own claim is refused.
  accepted(await p.mallory.submit('honest', 'TakeLease', dataset.id, '60'));
  const launch = { workflowId: 'wf-versions', datasetIds: [dataset.id], specHash: 'c'.repeat(64) };
  refusedWith(
    await p.mallory.submit('honest', 'RecordWorkflowLaunched', JSON.stringify({ ...launch, datasetVersions: [{ datasetId: dataset.id, version: 1 }] })),
    'validation_failed',
  );
  const record = JSON.parse(accepted(await p.mallory.submit('honest', 'RecordWorkflowLaunched', JSON.stringify(launch)))) as WorkflowRecord;
  assert.deepEqual(record.datasetVersions, [{ datasetId: dataset.id, version: 2, contentHash: HASH }]);
});
