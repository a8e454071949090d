import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { DatasetRecord, WorkflowRecord } from '@ledgerflow/chaincode';
import { newDataset, startPeerFixture, type PeerFixture } from '../integration/ledger/peerFixture';
import { DishonestClient, type Outcome } from './dishonestClient';

/**
 * A member of another organization (uio) calls UpdateDatasetContent on a dataset of uis
 * directly through the peer's Gateway, bypassing ledgerflow's API, and names itself the
 * owner in the arguments: the chaincode takes the owner from the submitter's identity and
 * refuses. The owner's own push is accepted once per version number; the launch record
 * names the version from the ledger, whatever the launcher sends.
 */
let f: PeerFixture;
let mallory: DishonestClient; // uio, not the owner
let alice: DishonestClient; // uis, the owner

before(async () => {
  f = await startPeerFixture();
  [mallory, alice] = await Promise.all([
    DishonestClient.connect(f.peer.endpoint, f.peer.mspDir, 'uio', 'mallory'),
    DishonestClient.connect(f.peer.endpoint, f.peer.mspDir, 'uis', 'alice'),
  ]);
});
after(async () => {
  for (const c of [mallory, alice]) c?.close();
  await f?.close();
});

const accepted = (out: Outcome): string => {
  assert.ok(out.ok, `expected acceptance, got: ${out.text}`);
  return out.text;
};
const refusedWith = (out: Outcome, code: string): void => {
  assert.equal(out.ok, false, `expected a refusal (${code}), got: ${out.text}`);
  assert.equal(out.code, code, out.text);
};

const HASH = 'a'.repeat(64);

test('only the owner organization adds a content version; the next number only', async () => {
  const dataset = newDataset({ policy: { leaseTtlSeconds: 60, maxLeaseTtlSeconds: 3600, approval: 'none' } });
  const registered = JSON.parse(accepted(await alice.submit('honest', 'RegisterDataset', JSON.stringify(dataset)))) as DatasetRecord;
  assert.equal(registered.version, 1);

  refusedWith(await mallory.submit('honest', 'UpdateDatasetContent', dataset.id, JSON.stringify({ version: 2, contentHash: HASH })), 'forbidden');
  // A forged owner field is no argument the contract takes.
  refusedWith(
    await mallory.submit('honest', 'UpdateDatasetContent', dataset.id, JSON.stringify({ version: 2, contentHash: HASH, owner: { org: 'uis' } })),
    'validation_failed',
  );
  refusedWith(await alice.submit('honest', 'UpdateDatasetContent', dataset.id, JSON.stringify({ version: 3, contentHash: HASH })), 'conflict');

  const updated = JSON.parse(
    accepted(await alice.submit('honest', 'UpdateDatasetContent', dataset.id, JSON.stringify({ version: 2, contentHash: HASH }))),
  ) as DatasetRecord;
  assert.equal(updated.version, 2);
  assert.equal(updated.contentHash, HASH);
  // The same number again (a racing push) is refused.
  refusedWith(await alice.submit('honest', 'UpdateDatasetContent', dataset.id, JSON.stringify({ version: 2, contentHash: 'b'.repeat(64) })), 'conflict');

  // The launch record's versions come from the ledger; a launcher's own claim is refused.
  accepted(await mallory.submit('honest', 'TakeLease', dataset.id, '60'));
  const launch = { workflowId: 'wf-versions', datasetIds: [dataset.id], specHash: 'c'.repeat(64) };
  refusedWith(
    await mallory.submit('honest', 'RecordWorkflowLaunched', JSON.stringify({ ...launch, datasetVersions: [{ datasetId: dataset.id, version: 1 }] })),
    'validation_failed',
  );
  const record = JSON.parse(accepted(await mallory.submit('honest', 'RecordWorkflowLaunched', JSON.stringify(launch)))) as WorkflowRecord;
  assert.deepEqual(record.datasetVersions, [{ datasetId: dataset.id, version: 2, contentHash: HASH }]);
});
