import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { peer as peerProtos } from '@hyperledger/fabric-protos';
import { startEmbeddedPeer } from '../../src/ledger-peer/peer';
import { createLogger } from '../../src/observability/logger';
import { forger } from '../conformance/fabric/forgery';
import { DishonestClient } from './dishonestClient';

/**
 * Members that do not trust each other: uio (the lessee) and uib together are a majority of
 * the channel, run their own peers, and skip the chaincode to write a uis dataset's record,
 * its policy and the owner's approval of their workflow. Key-level endorsement binds those
 * keys to uis, so every such transaction ends ENDORSEMENT_POLICY_FAILURE; through the honest
 * chaincode the same changes are refused as `forbidden`.
 */

const ENDORSEMENT_POLICY_FAILURE = peerProtos.TxValidationCode.ENDORSEMENT_POLICY_FAILURE;
const compositeKey = (type: string, ...attributes: string[]) => `\u0000${type}\u0000${attributes.map((a) => `${a}\u0000`).join('')}`;
const sha = (text: string) => createHash('sha256').update(text).digest('hex');

test("a majority of other organizations cannot change an owner's dataset record, policy or approvals without the owner's endorsement", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledgerflow-owner-'));
  const peer = await startEmbeddedPeer({ dataDir, port: 0, orgs: ['uis', 'uio', 'uib'], logger: createLogger({ level: 'silent' }) });
  const alice = await DishonestClient.connect(peer.endpoint, peer.mspDir, 'uis', 'alice');
  const bob = await DishonestClient.connect(peer.endpoint, peer.mspDir, 'uio', 'bob');
  const colluders = await forger(peer.endpoint, peer.mspDir, 'uio', 'bob');
  try {
    const id = `ds-${process.pid}-owned`;
    const dataset = {
      id,
      name: 'owned',
      description: '',
      policy: { leaseTtlSeconds: 60, maxLeaseTtlSeconds: 3600 },
      storageKind: 'local',
      sealedLocation: 'c2VhbGVk',
    };
    assert.equal((await alice.submit('honest', 'RegisterDataset', JSON.stringify(dataset))).ok, true);
    assert.equal((await bob.submit('honest', 'TakeLease', id, '60')).ok, true);
    const request = { workflowId: 'wf-owned', datasetIds: [id], specHash: sha('spec'), filesHash: sha('files') };
    assert.equal((await bob.submit('honest', 'RequestApprovals', JSON.stringify(request))).ok, true);

    // Through the chaincode: the owner's rules refuse.
    assert.equal((await bob.submit('honest', 'UpdateDataset', id, JSON.stringify({ name: 'mine now' }))).code, 'forbidden');
    assert.equal((await bob.submit('honest', 'DecideApprovals', 'wf-owned', JSON.stringify({ decision: 'approve' }))).code, 'forbidden');

    // Around it, endorsed by the peers of uio and uib (a majority, so the chaincode's policy holds).
    const record = Buffer.from(JSON.stringify({ ...dataset, owner: { org: 'uio', mspId: 'UioMSP', user: 'bob' } }));
    const noApproval = Buffer.from(
      JSON.stringify({ ...dataset, policy: { ...dataset.policy, approval: 'none' }, owner: { org: 'uis', mspId: 'UisMSP', user: 'alice' } }),
    );
    const approved = Buffer.from(JSON.stringify({ ...request, datasetId: id, state: 'approved', decidedBy: { org: 'uis', mspId: 'UisMSP', user: 'alice' } }));
    const forgeries: [string, string[], Parameters<typeof colluders.submit>[3]][] = [
      ['the dataset record', ['UpdateDataset', id], { writes: [{ key: `dataset:${id}`, value: record }] }],
      ['the dataset policy', ['UpdateDataset', id], { writes: [{ key: `dataset:${id}`, value: noApproval }] }],
      ["the owner's approval", ['DecideApprovals', 'wf-owned'], { writes: [{ key: compositeKey('approval', 'wf-owned', id), value: approved }] }],
      ['the key-level policy itself', ['UpdateDataset', id], { metadataWrites: [{ key: `dataset:${id}`, validationParameter: null }] }],
    ];
    for (const [what, [fn, ...args], rwset] of forgeries) {
      assert.equal(await colluders.submit(['uio', 'uib'], fn!, [...args, '{}'], rwset), ENDORSEMENT_POLICY_FAILURE, what);
    }
    const stored = JSON.parse((await alice.evaluate('honest', 'ReadDataset', id)).text) as { owner: { org: string }; policy: Record<string, unknown> };
    assert.equal(stored.owner.org, 'uis');
    assert.equal(stored.policy['approval'], undefined);
    const approvals = JSON.parse((await bob.evaluate('honest', 'ReadApprovals', 'wf-owned')).text) as { state: string }[];
    assert.deepEqual(
      approvals.map((a) => a.state),
      ['pending'],
    );
  } finally {
    colluders.close();
    alice.close();
    bob.close();
    await peer.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
