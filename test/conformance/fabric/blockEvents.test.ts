import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { checkpointers } from '@hyperledger/fabric-gateway';
import { common, msp, orderer as ab, peer } from '@hyperledger/fabric-protos';
import { newEcdsaSigner } from '../../../src/adapters/ledger/ecdsa';
import { getOrIssueIdentity } from '../../../src/ledger-peer/localCa';
import { CHANNEL, createAsset, newAssetId, qscc, startConformancePeer, take, type Client, type ConformancePeer } from './support';

/**
 * The Deliver service through fabric-gateway's block event APIs (full, filtered, with private
 * data), from a start block, from the next commit, and resumed from a checkpoint, and the
 * Deliver protocol itself (stop position, SUCCESS status, refusals) as a Fabric 2.5 peer
 * answers it.
 */

let f: ConformancePeer;
let client: Client;
before(async () => {
  f = await startConformancePeer();
  client = await f.client('org1', 'appUser');
});
after(() => f.close());

const txIdsOf = (block: common.Block): string[] =>
  block
    .getData()!
    .getDataList_asU8()
    .map((e) => {
      const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(e).getPayload_asU8());
      return common.ChannelHeader.deserializeBinary(payload.getHeader()!.getChannelHeader_asU8()).getTxId();
    });

test('block events from a start block: the committed blocks in order, then new ones as they commit', async () => {
  const first = await createAsset(client, newAssetId());
  const events = await client.network.getBlockEvents({ startBlock: first.blockNumber });
  const pending = take(events, 2);
  const second = await createAsset(client, newAssetId());
  const blocks = await pending;
  assert.deepEqual(
    blocks.map((b) => BigInt(b.getHeader()!.getNumber())),
    [first.blockNumber, first.blockNumber + 1n],
  );
  assert.ok(txIdsOf(blocks[0]!).includes(first.transactionId));
  assert.ok(second.blockNumber >= first.blockNumber + 1n);
  // The block is the stored one, byte for byte: its hash chain can be checked by the client.
  const byNumber = common.Block.deserializeBinary(await client.qscc.evaluateTransaction('GetBlockByNumber', CHANNEL, String(first.blockNumber)));
  assert.deepEqual(blocks[0]!.serializeBinary(), byNumber.serializeBinary());
});

test('filtered block events: tx ids, validation codes and chaincode event names, without payloads', async () => {
  const id = newAssetId();
  const created = await createAsset(client, id);
  // Two updates endorsed against the same state: the second to commit is an MVCC conflict.
  const a = await client.assets.newProposal('UpdateAsset', { arguments: [id, 'red', '1', 'A', '1'] }).endorse();
  const b = await client.assets.newProposal('UpdateAsset', { arguments: [id, 'green', '2', 'B', '2'] }).endorse();
  const statusA = await (await a.submit()).getStatus();
  const statusB = await (await b.submit()).getStatus();
  assert.equal(statusA.code, peer.TxValidationCode.VALID);
  assert.equal(statusB.code, peer.TxValidationCode.MVCC_READ_CONFLICT);

  const events = await client.network.getFilteredBlockEvents({ startBlock: created.blockNumber });
  const wanted = Number(statusB.blockNumber - created.blockNumber) + 1;
  const blocks = await take(events, wanted);
  const txs = blocks.flatMap((blk) => blk.getFilteredTransactionsList().map((tx) => ({ channel: blk.getChannelId(), tx })));
  const byId = new Map(txs.map(({ channel, tx }) => [tx.getTxid(), { channel, tx }]));
  for (const [txId, code, eventName] of [
    [created.transactionId, peer.TxValidationCode.VALID, 'CreateAsset'],
    [a.getTransactionId(), peer.TxValidationCode.VALID, 'UpdateAsset'],
    [b.getTransactionId(), peer.TxValidationCode.MVCC_READ_CONFLICT, 'UpdateAsset'],
  ] as const) {
    const found = byId.get(txId);
    assert.ok(found !== undefined, `transaction ${txId} is in a filtered block`);
    assert.equal(found.channel, CHANNEL);
    assert.equal(found.tx.getType(), common.HeaderType.ENDORSER_TRANSACTION);
    assert.equal(found.tx.getTxValidationCode(), code);
    const actions = found.tx.getTransactionActions()!.getChaincodeActionsList();
    assert.equal(actions.length, 1);
    const event = actions[0]!.getChaincodeEvent()!;
    assert.deepEqual([event.getChaincodeId(), event.getEventName(), event.getTxId(), event.getPayload_asU8().length], ['basic', eventName, txId, 0]);
  }
});

test('block and private data events: the block, and no private data (the ledger holds none)', async () => {
  const created = await createAsset(client, newAssetId());
  const [event] = await take(await client.network.getBlockAndPrivateDataEvents({ startBlock: created.blockNumber }), 1);
  assert.equal(BigInt(event!.getBlock()!.getHeader()!.getNumber()), created.blockNumber);
  assert.equal(event!.getPrivateDataMapMap().getLength(), 0);
});

test('without a start block, events begin at the next block committed', async () => {
  const before = await createAsset(client, newAssetId());
  const events = await client.network.getBlockEvents();
  const pending = take(events, 1);
  // The stream is open once the peer has read the request; a block committed after it is
  // the first one delivered.
  const after = await createAsset(client, newAssetId());
  const [block] = await pending;
  const number = BigInt(block!.getHeader()!.getNumber());
  assert.ok(number > before.blockNumber && number <= after.blockNumber);
});

test('a checkpoint resumes block events after the last block processed', async () => {
  const first = await createAsset(client, newAssetId());
  const checkpointer = checkpointers.inMemory();
  const [block] = await take(await client.network.getBlockEvents({ startBlock: first.blockNumber, checkpoint: checkpointer }), 1);
  await checkpointer.checkpointBlock(BigInt(block!.getHeader()!.getNumber()));
  const later = await createAsset(client, newAssetId());
  // startBlock is ignored when the checkpointer has state, as fabric-gateway documents.
  const [resumed] = await take(await client.network.getFilteredBlockEvents({ startBlock: 0n, checkpoint: checkpointer }), 1);
  assert.equal(BigInt(resumed!.getNumber()), first.blockNumber + 1n);
  assert.ok(later.blockNumber >= first.blockNumber + 1n);
});

test('a client outside the channel is refused (FORBIDDEN status) and a start past the height is NOT_FOUND', async () => {
  const foreign = await getOrIssueIdentity(`${f.dataDir}/elsewhere`, 'org1', 'mallory');
  const outsider = f.connectWith({ mspId: foreign.mspId, credentials: Buffer.from(foreign.certPem) }, newEcdsaSigner(foreign.keyPem));
  await assert.rejects(take(await outsider.network.getBlockEvents({ startBlock: 0n }), 1), /Unexpected status response: 403/);
  const height = BigInt((await qscc.chainInfo(client)).getHeight());
  await assert.rejects(take(await client.network.getBlockEvents({ startBlock: height + 1n }), 1), /Unexpected status response: 404/);
});

/** A raw Deliver stream: signed SeekInfo envelopes in, DeliverResponses out. */
async function rawDeliver(seeks: ab.SeekInfo[]): Promise<peer.DeliverResponse[]> {
  const identity = await getOrIssueIdentity(f.peer.mspDir, 'org1', 'appUser');
  const sign = newEcdsaSigner(identity.keyPem);
  const creator = new msp.SerializedIdentity();
  creator.setMspid(identity.mspId);
  creator.setIdBytes(Buffer.from(identity.certPem));
  const deliverClient = new peer.DeliverClient(f.peer.endpoint, grpc.credentials.createInsecure());
  const call = deliverClient.deliver();
  const responses: peer.DeliverResponse[] = [];
  // Read by events: a for-await loop left early would destroy the stream before the next request.
  const queue: peer.DeliverResponse[] = [];
  let wake: (() => void) | undefined;
  let ended: Error | undefined;
  call.on('data', (r: peer.DeliverResponse) => (queue.push(r), wake?.()));
  call.on('error', (err: Error) => ((ended = err), wake?.()));
  call.on('end', () => ((ended ??= new Error('stream ended')), wake?.()));
  const next = async (): Promise<peer.DeliverResponse> => {
    while (queue.length === 0) {
      if (ended !== undefined) throw ended;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    return queue.shift()!;
  };
  try {
    for (const seek of seeks) {
      const channelHeader = new common.ChannelHeader();
      channelHeader.setType(common.HeaderType.DELIVER_SEEK_INFO);
      channelHeader.setChannelId(CHANNEL);
      // fabric-protos ships google-protobuf's Timestamp without typings.
      const { Timestamp } = require('google-protobuf/google/protobuf/timestamp_pb') as { Timestamp: { fromDate(d: Date): never } };
      channelHeader.setTimestamp(Timestamp.fromDate(new Date()));
      const signatureHeader = new common.SignatureHeader();
      signatureHeader.setCreator(creator.serializeBinary());
      const header = new common.Header();
      header.setChannelHeader(channelHeader.serializeBinary());
      header.setSignatureHeader(signatureHeader.serializeBinary());
      const payload = new common.Payload();
      payload.setHeader(header);
      payload.setData(seek.serializeBinary());
      const envelope = new common.Envelope();
      envelope.setPayload(payload.serializeBinary());
      envelope.setSignature(await sign(envelope.getPayload_asU8()));
      call.write(envelope);
      // Read through this request's status.
      for (;;) {
        const response = await next();
        responses.push(response);
        if (response.getTypeCase() === peer.DeliverResponse.TypeCase.STATUS) break;
      }
    }
  } finally {
    call.cancel();
    deliverClient.close();
  }
  return responses;
}

const position = (n: number | 'oldest' | 'newest'): ab.SeekPosition => {
  const p = new ab.SeekPosition();
  if (n === 'oldest') p.setOldest(new ab.SeekOldest());
  else if (n === 'newest') p.setNewest(new ab.SeekNewest());
  else {
    const s = new ab.SeekSpecified();
    s.setNumber(n);
    p.setSpecified(s);
  }
  return p;
};
const seek = (start: Parameters<typeof position>[0], stop: Parameters<typeof position>[0], behavior?: number): ab.SeekInfo => {
  const s = new ab.SeekInfo();
  s.setStart(position(start));
  s.setStop(position(stop));
  if (behavior !== undefined) s.setBehavior(behavior as ab.SeekInfo.SeekBehaviorMap[keyof ab.SeekInfo.SeekBehaviorMap]);
  return s;
};

test('the Deliver protocol: blocks from start to stop, then SUCCESS, then the next request on the same stream; refusals end it', async () => {
  await createAsset(client, newAssetId());
  const kinds = (rs: peer.DeliverResponse[]) =>
    rs.map((r) => (r.getTypeCase() === peer.DeliverResponse.TypeCase.STATUS ? `status ${r.getStatus()}` : `block ${r.getBlock()!.getHeader()!.getNumber()}`));
  assert.deepEqual(kinds(await rawDeliver([seek(0, 1), seek('newest', 'newest')])).slice(0, 3), ['block 0', 'block 1', `status ${common.Status.SUCCESS}`]);
  const newest = await rawDeliver([seek('newest', 'newest')]);
  assert.equal(newest.length, 2);
  assert.equal(newest[1]!.getStatus(), common.Status.SUCCESS);
  // A stop before the start is a bad request; FAIL_IF_NOT_READY past the end is NOT_FOUND.
  assert.deepEqual(kinds(await rawDeliver([seek(2, 1)])), [`status ${common.Status.BAD_REQUEST}`]);
  const height = Number(newest[0]!.getBlock()!.getHeader()!.getNumber()) + 1;
  assert.deepEqual(kinds(await rawDeliver([seek(height, height, ab.SeekInfo.SeekBehavior.FAIL_IF_NOT_READY)])), [`status ${common.Status.NOT_FOUND}`]);
});
