import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import { connect, hash } from '@hyperledger/fabric-gateway';
import { common, gateway as gatewayProtos } from '@hyperledger/fabric-protos';
import { getOrIssueIdentity } from '../../../src/ledger-peer/localCa';
import { newEcdsaSigner } from '../../../src/adapters/ledger/ecdsa';
import { transactionsFilter } from '../../../src/ledger-peer/blocks';
import { ledgerFile } from '../../../src/ledger-peer/peer';
import { verifyLedger } from '../../../src/ledger-peer/verify';
import { startPeerFixture, newDataset } from './peerFixture';

/** The validation code of each copy of `txIds` on the ledger in `dataDir`, in block order. */
function validationCodes(dataDir: string, txIds: readonly string[]): Map<string, number[]> {
  const db = new Database(ledgerFile(dataDir), { readonly: true });
  const codes = new Map<string, number[]>(txIds.map((txId) => [txId, []]));
  for (const row of db.prepare<[], { bytes: Buffer }>('SELECT bytes FROM blocks ORDER BY number').iterate()) {
    const block = common.Block.deserializeBinary(row.bytes);
    block
      .getData()!
      .getDataList_asU8()
      .forEach((env, i) => {
        const header = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(env).getPayload_asU8()).getHeader()!;
        codes.get(common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8()).getTxId())?.push(transactionsFilter(block)[i]!);
      });
  }
  db.close();
  return codes;
}

test('commit-time validation records duplicates and tampered endorsements as invalid, like Fabric', async () => {
  const f = await startPeerFixture();
  const id = await getOrIssueIdentity(f.peer.mspDir, 'uio', 'eve');
  const signer = newEcdsaSigner(id.keyPem);
  const client = new grpc.Client(f.peer.endpoint, grpc.credentials.createInsecure());
  const gw = connect({ client, identity: { mspId: id.mspId, credentials: Buffer.from(id.certPem) }, signer, hash: hash.none });
  let duplicateTxId: string;
  try {
    const network = gw.getNetwork('ledgerflow');
    const contract = network.getContract('ledgerflow', 'ledgerflow');
    const [a, b] = [newDataset(), newDataset()];
    await f.ledger.as({ org: 'uis', user: 'alice' }).registerDataset(a);
    await f.ledger.as({ org: 'uis', user: 'alice' }).registerDataset(b);

    // The same signed transaction submitted twice: the second copy is a DUPLICATE_TXID.
    const once = await contract.newProposal('TakeLease', { arguments: [a.id, '60'] }).endorse();
    duplicateTxId = once.getTransactionId();
    assert.equal((await (await once.submit()).getStatus()).successful, true);
    await once.submit();

    // The client alters the endorsed write set (a longer lease) and signs that: the
    // endorsement no longer matches, so the transaction is invalid and changes nothing.
    const endorsed = await contract.newProposal('TakeLease', { arguments: [b.id, '60'] }).endorse();
    const prepared = gatewayProtos.PreparedTransaction.deserializeBinary(endorsed.getBytes());
    const envelope = prepared.getEnvelope()!;
    const payload = Buffer.from(envelope.getPayload_asU8());
    const at = payload.indexOf('"expiresAt":"');
    assert.ok(at > 0);
    payload.write('9', at + 14);
    envelope.setPayload(payload);
    prepared.setEnvelope(envelope);
    const forged = gw.newSignedTransaction(prepared.serializeBinary(), await signer(payload));
    const status = await (await forged.submit()).getStatus();
    assert.equal(status.successful, false);
    assert.equal(status.code, 10); // ENDORSEMENT_POLICY_FAILURE
    assert.equal(await f.ledger.as({ org: 'uis', user: 'alice' }).getLease(b.id), undefined);
  } finally {
    gw.close();
    client.close();
    await f.stop();
  }
  try {
    assert.deepEqual(validationCodes(f.dataDir, [duplicateTxId]).get(duplicateTxId), [0, 9]); // VALID, then DUPLICATE_TXID
    // The replay reaches the same verdicts.
    assert.equal(verifyLedger(f.dataDir).ok, true);
  } finally {
    await f.close();
  }
});

test("an envelope endorsed here and signed by another member's key is refused at submit, as the orderer's signature filter does", async () => {
  const f = await startPeerFixture();
  const id = await getOrIssueIdentity(f.peer.mspDir, 'uio', 'mallory');
  const other = await getOrIssueIdentity(f.peer.mspDir, 'uio', 'trent');
  const client = new grpc.Client(f.peer.endpoint, grpc.credentials.createInsecure());
  const gw = connect({ client, identity: { mspId: id.mspId, credentials: Buffer.from(id.certPem) }, signer: newEcdsaSigner(id.keyPem), hash: hash.none });
  try {
    const contract = gw.getNetwork('ledgerflow').getContract('ledgerflow', 'ledgerflow');
    const input = newDataset();
    await f.ledger.as({ org: 'uis', user: 'alice' }).registerDataset(input);
    // The payload is exactly the one the peer built; only the client's signature is wrong
    // (a valid signature, by another member's key).
    const endorsed = await contract.newProposal('TakeLease', { arguments: [input.id, '60'] }).endorse();
    const prepared = gatewayProtos.PreparedTransaction.deserializeBinary(endorsed.getBytes());
    const payload = prepared.getEnvelope()!.getPayload_asU8();
    const forged = gw.newSignedTransaction(endorsed.getBytes(), await newEcdsaSigner(other.keyPem)(payload));
    await assert.rejects(forged.submit(), (err: Error & { code?: number }) => err.name === 'SubmitError' && /status=FORBIDDEN/.test(err.message));
    assert.equal(await f.ledger.as({ org: 'uis', user: 'alice' }).getLease(input.id), undefined);
  } finally {
    gw.close();
    client.close();
    await f.close();
  }
});

test('a proposal endorsed again before its transaction commits is a DUPLICATE_TXID when submitted again, though this peer endorsed it (its own endorsements skip only the blocks before them)', async () => {
  const f = await startPeerFixture();
  const id = await getOrIssueIdentity(f.peer.mspDir, 'uio', 'eve');
  const client = new grpc.Client(f.peer.endpoint, grpc.credentials.createInsecure());
  const gw = connect({ client, identity: { mspId: id.mspId, credentials: Buffer.from(id.certPem) }, signer: newEcdsaSigner(id.keyPem), hash: hash.none });
  const txIds: string[] = [];
  try {
    const contract = gw.getNetwork('ledgerflow').getContract('ledgerflow', 'ledgerflow');
    const alice = f.ledger.as({ org: 'uis', user: 'alice' });
    // Resubmitted after the first copy is written, and while it is still being written.
    for (const resubmit of ['after the commit', 'while in flight'] as const) {
      const input = newDataset();
      await alice.registerDataset(input);
      const proposal = contract.newProposal('TakeLease', { arguments: [input.id, '60'] });
      txIds.push(proposal.getTransactionId());
      // The ledger's write lock held by another connection: the first copy's block waits in
      // the commit worker, so the same proposal is endorsed again before the tx id is on the ledger.
      const blocker = new Database(ledgerFile(f.dataDir));
      blocker.exec('BEGIN IMMEDIATE');
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        blocker.exec('ROLLBACK');
        blocker.close();
      };
      try {
        const first = await (await proposal.endorse()).submit();
        const again = await proposal.endorse();
        if (resubmit === 'while in flight') await again.submit();
        release();
        assert.equal((await first.getStatus()).successful, true);
        if (resubmit === 'after the commit') await again.submit();
      } finally {
        release();
      }
    }
  } finally {
    gw.close();
    client.close();
    await f.stop();
  }
  try {
    const codes = validationCodes(f.dataDir, txIds);
    for (const txId of txIds) assert.deepEqual(codes.get(txId), [0, 9]); // VALID, then DUPLICATE_TXID
    assert.equal(verifyLedger(f.dataDir).ok, true);
  } finally {
    await f.close();
  }
});
