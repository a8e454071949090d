import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { EndorseError, GatewayError } from '@hyperledger/fabric-gateway';
import * as grpc from '@grpc/grpc-js';
import { common, peer } from '@hyperledger/fabric-protos';
import { createAsset, json, newAssetId, qscc, startConformancePeer, text, type Client, type ConformancePeer } from './support';

/**
 * The asset-transfer-basic application flow, unchanged but for connection settings, against
 * the embedded peer, and the ledger queries (qscc) a Fabric client makes about it.
 */

let f: ConformancePeer;
let org1: Client;
before(async () => {
  f = await startConformancePeer();
  org1 = await f.client('org1', 'appUser');
});
after(() => f.close());

test('create, read, update, transfer, delete an asset; every change is in the key history', async () => {
  const id = newAssetId();
  await createAsset(org1, id);
  assert.deepEqual(json(await org1.assets.evaluateTransaction('ReadAsset', id)), { AppraisedValue: 300, Color: 'blue', ID: id, Owner: 'Tomoko', Size: 5 });
  await org1.assets.submitTransaction('UpdateAsset', id, 'red', '7', 'Tomoko', '400');
  const previousOwner = await org1.assets.submitTransaction('TransferAsset', id, 'Max');
  assert.equal(text(previousOwner), 'Tomoko');
  assert.equal(json<{ Owner: string }>(await org1.assets.evaluateTransaction('ReadAsset', id)).Owner, 'Max');
  assert.equal(text(await org1.assets.evaluateTransaction('AssetExists', id)), 'true');
  await org1.assets.submitTransaction('DeleteAsset', id);
  assert.equal(text(await org1.assets.evaluateTransaction('AssetExists', id)), 'false');
  const history = json<{ isDelete: boolean; value: { Owner: string } | null }[]>(await org1.assets.evaluateTransaction('GetAssetHistory', id));
  assert.deepEqual(
    history.map((h) => (h.isDelete ? 'deleted' : h.value?.Owner)),
    ['deleted', 'Max', 'Tomoko', 'Tomoko'],
  );
});

test('a chaincode error is an EndorseError (ABORTED) on submit and UNKNOWN on evaluate, with the endorser in the details', async () => {
  const missing = newAssetId();
  await assert.rejects(org1.assets.submitTransaction('UpdateAsset', missing, 'red', '1', 'x', '1'), (err: unknown) => {
    assert.ok(err instanceof EndorseError, String(err));
    assert.equal(err.code, grpc.status.ABORTED);
    assert.equal(err.message, '10 ABORTED: failed to endorse transaction, see attached details for more info');
    assert.equal(err.details.length, 1);
    assert.equal(err.details[0]!.message, `chaincode response 500, The asset ${missing} does not exist`);
    assert.equal(err.details[0]!.address, f.peer.endpoint);
    assert.equal(err.details[0]!.mspId, 'Ledgerflow-peerMSP');
    return true;
  });
  await assert.rejects(org1.assets.evaluateTransaction('ReadAsset', missing), (err: unknown) => {
    assert.ok(err instanceof GatewayError, String(err));
    assert.equal(err.code, grpc.status.UNKNOWN);
    assert.equal(err.message, `2 UNKNOWN: evaluate call to endorser returned error: chaincode response 500, The asset ${missing} does not exist`);
    assert.equal(err.details[0]!.message, `chaincode response 500, The asset ${missing} does not exist`);
    return true;
  });
});

test('qscc: GetChainInfo, GetBlockByNumber, GetBlockByTxID and GetTransactionByID answer as a Fabric peer does', async () => {
  const id = newAssetId();
  const { transactionId, blockNumber } = await createAsset(org1, id);
  const info = await qscc.chainInfo(org1);
  assert.ok(BigInt(info.getHeight()) > blockNumber);

  const block = await qscc.blockByNumber(org1, blockNumber);
  assert.equal(BigInt(block.getHeader()!.getNumber()), blockNumber);
  const byTx = await qscc.blockByTxId(org1, transactionId);
  assert.deepEqual(byTx.serializeBinary(), block.serializeBinary());

  // The envelope in the block is the transaction: its channel header names the tx id.
  const envelopes = block.getData()!.getDataList_asU8();
  const txIds = envelopes.map((e) => {
    const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(e).getPayload_asU8());
    return common.ChannelHeader.deserializeBinary(payload.getHeader()!.getChannelHeader_asU8()).getTxId();
  });
  const txNum = txIds.indexOf(transactionId);
  assert.ok(txNum >= 0);
  const filter = block.getMetadata()!.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER]!;
  assert.equal(filter[txNum], peer.TxValidationCode.VALID);

  const processed = await qscc.transactionById(org1, transactionId);
  assert.equal(processed.getValidationcode(), peer.TxValidationCode.VALID);
  assert.deepEqual(processed.getTransactionenvelope()!.serializeBinary(), envelopes[txNum]);

  // The newest block's hash chains to the one before, as GetChainInfo reports.
  const last = await qscc.blockByNumber(org1, BigInt(info.getHeight()) - 1n);
  assert.deepEqual(last.getHeader()!.getPreviousHash_asU8(), info.getPreviousblockhash_asU8());
});

test("qscc errors carry Fabric's messages", async () => {
  const evaluateError = async (promise: Promise<unknown>, message: string) =>
    assert.rejects(promise, (err: unknown) => {
      assert.ok(err instanceof GatewayError, String(err));
      assert.equal(err.code, grpc.status.UNKNOWN);
      assert.equal(err.details[0]!.message, `chaincode response 500, ${message}`);
      return true;
    });
  await evaluateError(
    org1.qscc.evaluateTransaction('GetBlockByNumber', 'ledgerflow', '999999'),
    'Failed to get block number 999999, error no such block number [999999] in index',
  );
  await evaluateError(
    org1.qscc.evaluateTransaction('GetTransactionByID', 'ledgerflow', 'no-such-tx'),
    'Failed to get transaction with id no-such-tx, error no such transaction ID [no-such-tx] in index',
  );
  await evaluateError(
    org1.qscc.evaluateTransaction('GetBlockByTxID', 'ledgerflow', 'no-such-tx'),
    'Failed to get block for txID no-such-tx, error no such transaction ID [no-such-tx] in index',
  );
  await evaluateError(
    org1.qscc.evaluateTransaction('GetBlockByNumber', 'ledgerflow', '18446744073709551616'),
    'Failed to parse block number with error strconv.ParseUint: parsing "18446744073709551616": value out of range',
  );
  await evaluateError(
    org1.qscc.evaluateTransaction('GetBlockByNumber', 'ledgerflow', '-1'),
    'Failed to parse block number with error strconv.ParseUint: parsing "-1": invalid syntax',
  );
  await evaluateError(org1.qscc.evaluateTransaction('GetChainInfo', 'otherchannel'), 'Invalid chain ID, otherchannel');
  await evaluateError(org1.qscc.evaluateTransaction('GetBlockByHash', 'ledgerflow'), 'missing 3rd argument for GetBlockByHash');
});
