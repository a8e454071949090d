import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { connect, hash, type Contract, type Gateway, type GatewayError } from '@hyperledger/fabric-gateway';
import { common, ledger, msp, peer } from '@hyperledger/fabric-protos';
import { newEcdsaSigner } from '../../../src/adapters/ledger/ecdsa';
import { getOrIssueIdentity } from '../../../src/ledger-peer/localCa';
import { blockHeaderHash } from '../../../src/ledger-peer/blocks';
import { peerEndpointFile } from '../../../src/ledger-peer/peer';
import { startPeerFixture, newDataset, type PeerFixture } from '../../integration/ledger/peerFixture';

/**
 * The embedded peer's query system chaincode, read as a Fabric client reads qscc: Evaluate
 * through the Gateway service with [function, channel, argument], the answer decoded with
 * @hyperledger/fabric-protos.
 */
let f: PeerFixture;
let gateway: Gateway;
let client: grpc.Client;
let qscc: Contract;
let registered: { txId: string; blockNumber: bigint; datasetId: string };

before(async () => {
  f = await startPeerFixture();
  const id = await getOrIssueIdentity(f.peer.mspDir, 'uio', 'carol');
  client = new grpc.Client(f.peer.endpoint, grpc.credentials.createInsecure());
  gateway = connect({ client, identity: { mspId: id.mspId, credentials: Buffer.from(id.certPem) }, signer: newEcdsaSigner(id.keyPem), hash: hash.none });
  const network = gateway.getNetwork('ledgerflow');
  qscc = network.getContract('qscc');
  const input = newDataset();
  const submitted = await network.getContract('ledgerflow', 'ledgerflow').submitAsync('RegisterDataset', { arguments: [JSON.stringify(input)] });
  const status = await submitted.getStatus();
  assert.equal(status.successful, true);
  registered = { txId: submitted.getTransactionId(), blockNumber: status.blockNumber, datasetId: input.id };
});
after(async () => {
  gateway.close();
  client.close();
  await f.close();
});

const messageOf = (err: unknown) => {
  const e = err as GatewayError;
  return [e.message, ...(e.details ?? []).map((d) => d.message)].join(' | ');
};

test('GetTransactionByID returns the ProcessedTransaction: the envelope as committed and its validation code', async () => {
  const bytes = await qscc.evaluateTransaction('GetTransactionByID', 'ledgerflow', registered.txId);
  const processed = peer.ProcessedTransaction.deserializeBinary(bytes);
  assert.equal(processed.getValidationcode(), peer.TxValidationCode.VALID);
  const payload = common.Payload.deserializeBinary(processed.getTransactionenvelope()!.getPayload_asU8());
  const channelHeader = common.ChannelHeader.deserializeBinary(payload.getHeader()!.getChannelHeader_asU8());
  assert.equal(channelHeader.getTxId(), registered.txId);
  assert.equal(channelHeader.getChannelId(), 'ledgerflow');
  const creator = msp.SerializedIdentity.deserializeBinary(
    common.SignatureHeader.deserializeBinary(payload.getHeader()!.getSignatureHeader_asU8()).getCreator_asU8(),
  );
  assert.equal(creator.getMspid(), 'UioMSP');
  // Down to the write set, as a client checks what the transaction wrote.
  const action = peer.Transaction.deserializeBinary(payload.getData_asU8()).getActionsList()[0]!;
  const prp = peer.ProposalResponsePayload.deserializeBinary(
    peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8()).getAction()!.getProposalResponsePayload_asU8(),
  );
  const rwset = ledger.rwset.TxReadWriteSet.deserializeBinary(peer.ChaincodeAction.deserializeBinary(prp.getExtension_asU8()).getResults_asU8());
  const ns = rwset.getNsRwsetList()[0]!;
  assert.equal(ns.getNamespace(), 'ledgerflow');
  const writes = ledger.rwset.kvrwset.KVRWSet.deserializeBinary(ns.getRwset_asU8()).getWritesList();
  const dataset = writes.find((w) => w.getKey() === `dataset:${registered.datasetId}`);
  assert.equal((JSON.parse(Buffer.from(dataset!.getValue_asU8()).toString()) as { id: string }).id, registered.datasetId);
});

test('GetBlockByTxID and GetBlockByNumber return the Fabric block holding it; GetChainInfo the height and hashes', async () => {
  const byTx = common.Block.deserializeBinary(await qscc.evaluateTransaction('GetBlockByTxID', 'ledgerflow', registered.txId));
  assert.equal(BigInt(byTx.getHeader()!.getNumber()), registered.blockNumber);
  const byNumber = await qscc.evaluateTransaction('GetBlockByNumber', 'ledgerflow', String(registered.blockNumber));
  assert.deepEqual(Buffer.from(byNumber), Buffer.from(byTx.serializeBinary()));
  const filter = byTx.getMetadata()!.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER]!;
  assert.deepEqual([...filter], [peer.TxValidationCode.VALID]);

  const info = common.BlockchainInfo.deserializeBinary(await qscc.evaluateTransaction('GetChainInfo', 'ledgerflow'));
  const height = info.getHeight();
  assert.ok(height >= Number(registered.blockNumber) + 1);
  const last = common.Block.deserializeBinary(await qscc.evaluateTransaction('GetBlockByNumber', 'ledgerflow', String(height - 1))).getHeader()!;
  assert.deepEqual(Buffer.from(info.getPreviousblockhash_asU8()), Buffer.from(last.getPreviousHash_asU8()));
  assert.deepEqual(
    Buffer.from(info.getCurrentblockhash_asU8()),
    blockHeaderHash(last.getNumber(), last.getPreviousHash_asU8(), last.getDataHash_asU8()),
    'the current hash is the last header hash, so a client can chain back from it',
  );
});

test("unknown transactions, blocks, channels and functions are chaincode errors with Fabric's messages", async () => {
  const missing = 'f'.repeat(64);
  await assert.rejects(qscc.evaluateTransaction('GetTransactionByID', 'ledgerflow', missing), (err) => {
    assert.match(messageOf(err), new RegExp(`Failed to get transaction with id ${missing}, error no such transaction ID \\[${missing}\\] in index`));
    return true;
  });
  await assert.rejects(qscc.evaluateTransaction('GetBlockByTxID', 'ledgerflow', missing), (err) => /Failed to get block for txID/.test(messageOf(err)));
  await assert.rejects(qscc.evaluateTransaction('GetBlockByNumber', 'ledgerflow', '999999'), (err) => /Failed to get block number 999999/.test(messageOf(err)));
  await assert.rejects(qscc.evaluateTransaction('GetBlockByNumber', 'ledgerflow', 'x'), (err) => /Failed to parse block number/.test(messageOf(err)));
  await assert.rejects(qscc.evaluateTransaction('GetChainInfo', 'elsewhere'), (err) => /Invalid chain ID, elsewhere/.test(messageOf(err)));
  await assert.rejects(qscc.evaluateTransaction('GetBlockByHash', 'ledgerflow', 'aa'), (err) =>
    /Requested function GetBlockByHash not found/.test(messageOf(err)),
  );
  await assert.rejects(qscc.evaluateTransaction('GetTransactionByID', 'ledgerflow'), (err) => /missing 3rd argument/.test(messageOf(err)));
});

test('qscc answers queries only: an endorsement is refused and nothing is ordered', async () => {
  await assert.rejects(qscc.submitTransaction('GetChainInfo', 'ledgerflow'), (err) => /answers queries only/.test(messageOf(err)));
});

test("a stranger's identity (a CA outside the channel) cannot read the ledger", async () => {
  const foreign = await getOrIssueIdentity(`${f.dataDir}/elsewhere`, 'uis', 'mallory');
  const outsider = connect({
    client,
    identity: { mspId: 'UisMSP', credentials: Buffer.from(foreign.certPem) },
    signer: newEcdsaSigner(foreign.keyPem),
    hash: hash.none,
  });
  try {
    await assert.rejects(
      outsider.getNetwork('ledgerflow').getContract('qscc').evaluateTransaction('GetTransactionByID', 'ledgerflow', registered.txId),
      (err: Error & { code?: number }) => err.code === grpc.status.FAILED_PRECONDITION,
    );
  } finally {
    outsider.close();
  }
});

test('the adapter reads a committed transaction through qscc: block number, validation code, writes', async () => {
  const session = f.ledger.as({ org: 'uib', user: 'dora' });
  const tx = await session.transaction(registered.txId);
  assert.equal(tx?.blockNumber, Number(registered.blockNumber));
  assert.equal(tx.validationCode, 0);
  assert.equal(tx.creatorMspId, 'UioMSP');
  assert.ok(tx.writes.some((w) => w.key === `dataset:${registered.datasetId}` && !w.isDelete));
  assert.equal(await session.transaction('0'.repeat(64)), undefined);
});

test('a running peer names its endpoint in the data dir, for local clients', () => {
  const file = peerEndpointFile(f.dataDir);
  assert.ok(existsSync(file));
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { endpoint: f.peer.endpoint, channel: 'ledgerflow' });
});
