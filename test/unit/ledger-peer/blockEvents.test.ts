import { test } from 'node:test';
import assert from 'node:assert/strict';
import { common, peer } from '@hyperledger/fabric-protos';
import { buildBlock } from '../../../src/ledger-peer/blocks';
import { filteredBlock, validChaincodeEvents } from '../../../src/ledger-peer/blockEvents';

/** An envelope with a channel header of `type` and `data` as its payload data. */
function envelope(txId: string, type: number, data: Uint8Array): Uint8Array {
  const channelHeader = new common.ChannelHeader();
  channelHeader.setTxId(txId);
  channelHeader.setChannelId('ch');
  channelHeader.setType(type as common.HeaderTypeMap[keyof common.HeaderTypeMap]);
  const header = new common.Header();
  header.setChannelHeader(channelHeader.serializeBinary());
  header.setSignatureHeader(new common.SignatureHeader().serializeBinary());
  const payload = new common.Payload();
  payload.setHeader(header);
  payload.setData(data);
  const env = new common.Envelope();
  env.setPayload(payload.serializeBinary());
  return env.serializeBinary();
}

/** An endorser transaction's data whose one action emits `name` from chaincode `cc`. */
function withEvent(cc: string, txId: string, name: string): Uint8Array {
  const event = new peer.ChaincodeEvent();
  event.setChaincodeId(cc);
  event.setTxId(txId);
  event.setEventName(name);
  event.setPayload(Buffer.from('payload'));
  const action = new peer.ChaincodeAction();
  action.setEvents(event.serializeBinary());
  const prp = new peer.ProposalResponsePayload();
  prp.setExtension$(action.serializeBinary());
  const endorsed = new peer.ChaincodeEndorsedAction();
  endorsed.setProposalResponsePayload(prp.serializeBinary());
  const cap = new peer.ChaincodeActionPayload();
  cap.setAction(endorsed);
  const txAction = new peer.TransactionAction();
  txAction.setPayload(cap.serializeBinary());
  const tx = new peer.Transaction();
  tx.setActionsList([txAction]);
  return tx.serializeBinary();
}

const ENDORSER = common.HeaderType.ENDORSER_TRANSACTION;

test('a filtered block lists each readable transaction with its type and code, and event names without payloads', () => {
  const { block } = buildBlock(
    7,
    Buffer.alloc(32),
    [
      envelope('t1', ENDORSER, withEvent('basic', 't1', 'Created')),
      Buffer.from('not an envelope'),
      envelope('t3', ENDORSER, Buffer.from([0xff, 0xff, 0xff])),
      envelope('t4', common.HeaderType.CONFIG, new Uint8Array(0)),
      envelope('t5', ENDORSER, withEvent('basic', 't5', 'Updated')),
    ],
    [0, 2, 2, 0, 11],
  );
  const filtered = filteredBlock(block);
  assert.equal(filtered.getNumber(), 7);
  assert.equal(filtered.getChannelId(), 'ch');
  const txs = filtered.getFilteredTransactionsList();
  // An envelope that does not decode is skipped, as Fabric does.
  assert.deepEqual(
    txs.map((t) => [t.getTxid(), t.getType(), t.getTxValidationCode()]),
    [
      ['t1', ENDORSER, 0],
      ['t3', ENDORSER, 2],
      ['t4', common.HeaderType.CONFIG, 0],
      ['t5', ENDORSER, 11],
    ],
  );
  const names = txs.map((t) =>
    t
      .getTransactionActions()
      ?.getChaincodeActionsList()
      .map((a) => a.getChaincodeEvent()!.getEventName()),
  );
  // Undecodable data: no actions (a Fabric peer answers BAD_REQUEST for the block); a config transaction has none.
  assert.deepEqual(names, [['Created'], [], undefined, ['Updated']]);
  assert.equal(txs[0]!.getTransactionActions()!.getChaincodeActionsList()[0]!.getChaincodeEvent()!.getPayload_asU8().length, 0);

  // Chaincode events for clients: valid transactions only, with payloads.
  const events = validChaincodeEvents(block, 'basic');
  assert.deepEqual(
    events.map((e) => [e.txNum, e.event.getEventName(), Buffer.from(e.event.getPayload_asU8()).toString()]),
    [[0, 'Created', 'payload']],
  );
  assert.deepEqual(validChaincodeEvents(block, 'other'), []);
});
