import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { common, ledger, peer } from '@hyperledger/fabric-protos';
import { encodeRwset } from '../../../src/ledger-peer/rwset';
import { buildTransactionEnvelope, type DecodedProposal, type Endorsed } from '../../../src/ledger-peer/transaction';
import { protoUtf8 } from '../../../src/ledger-peer/protoWriter';
import type { ReadWriteSet, Version } from '../../../src/ledger-peer/simulator';

// The peer writes these messages with its own encoder (protoWriter.ts); google-protobuf,
// which fabric-protos and every Fabric client use, is the reference: the bytes must match.

const { kvrwset } = ledger.rwset;

// Keys as chaincode writes them: composite keys with U+0000, any text, unpaired surrogates.
const key = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.constant('\u0000lease\u0000d\ud800\u0000'));
const bytes = fc.uint8Array({ maxLength: 40 });
const version: fc.Arbitrary<Version | null> = fc.option(
  fc.record({ blockNum: fc.oneof(fc.nat(), fc.maxSafeNat()), txNum: fc.oneof(fc.nat(300), fc.maxSafeNat()) }),
  { nil: null },
);
const rwsetArb: fc.Arbitrary<ReadWriteSet> = fc.record({
  reads: fc.array(fc.record({ key, version }), { maxLength: 4 }),
  rangeReads: fc.array(
    fc.record({
      startKey: key,
      endKey: key,
      exhausted: fc.boolean(),
      keys: fc.array(fc.record({ key, version: fc.record({ blockNum: fc.nat(), txNum: fc.nat() }) }), { maxLength: 3 }),
    }),
    { maxLength: 2 },
  ),
  writes: fc.array(fc.record({ key, value: fc.option(bytes.map(Buffer.from), { nil: null }) }), { maxLength: 4 }),
  metadataWrites: fc.option(fc.array(fc.record({ key, validationParameter: fc.option(bytes.map(Buffer.from), { nil: null }) }), { maxLength: 2 }), {
    nil: undefined,
  }),
});

function referenceRead(k: string, v: Version | null): ledger.rwset.kvrwset.KVRead {
  const read = new kvrwset.KVRead();
  read.setKey(k);
  if (v !== null) {
    const pv = new kvrwset.Version();
    pv.setBlockNum(v.blockNum);
    pv.setTxNum(v.txNum);
    read.setVersion(pv);
  }
  return read;
}

function referenceRwset(namespace: string, rw: ReadWriteSet): Uint8Array {
  const kv = new kvrwset.KVRWSet();
  kv.setReadsList(rw.reads.map((r) => referenceRead(r.key, r.version)));
  kv.setRangeQueriesInfoList(
    rw.rangeReads.map((q) => {
      const info = new kvrwset.RangeQueryInfo();
      info.setStartKey(q.startKey);
      info.setEndKey(q.endKey);
      info.setItrExhausted(q.exhausted);
      const raw = new kvrwset.QueryReads();
      raw.setKvReadsList(q.keys.map((k) => referenceRead(k.key, k.version)));
      info.setRawReads(raw);
      return info;
    }),
  );
  kv.setWritesList(
    rw.writes.map((w) => {
      const write = new kvrwset.KVWrite();
      write.setKey(w.key);
      write.setIsDelete(w.value === null);
      if (w.value !== null) write.setValue(w.value);
      return write;
    }),
  );
  kv.setMetadataWritesList(
    (rw.metadataWrites ?? []).map((m) => {
      const write = new kvrwset.KVMetadataWrite();
      write.setKey(m.key);
      if (m.validationParameter !== null) {
        const entry = new kvrwset.KVMetadataEntry();
        entry.setName('VALIDATION_PARAMETER');
        entry.setValue(m.validationParameter);
        write.setEntriesList([entry]);
      }
      return write;
    }),
  );
  const ns = new ledger.rwset.NsReadWriteSet();
  ns.setNamespace(namespace);
  ns.setRwset(kv.serializeBinary());
  const tx = new ledger.rwset.TxReadWriteSet();
  tx.setDataModel(ledger.rwset.TxReadWriteSet.DataModel.KV);
  tx.setNsRwsetList([ns]);
  return tx.serializeBinary();
}

test('read/write sets encode byte for byte as google-protobuf encodes them', () => {
  fc.assert(
    fc.property(fc.string(), rwsetArb, (namespace, rw) => {
      assert.deepEqual(Buffer.from(encodeRwset(namespace, rw)), Buffer.from(referenceRwset(namespace, rw)));
    }),
    { numRuns: 500 },
  );
});

test('strings encode as google-protobuf encodes them, unpaired surrogates included', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' })), (text) => {
      const reference = new peer.ChaincodeID();
      reference.setName(text);
      const encoded = reference.serializeBinary();
      // tag (field 2, length-delimited), length, then the text's bytes
      const lengthBytes = encoded.length - 1 - protoUtf8(text).length;
      assert.deepEqual(Buffer.from(encoded.subarray(1 + lengthBytes)), protoUtf8(text));
    }),
    { numRuns: 500 },
  );
});

/** The envelope as the peer built it with google-protobuf before protoWriter.ts. */
function referencePayload(
  proposal: DecodedProposal,
  endorsed: Endorsed,
  endorsements: { endorser: Uint8Array; signature: Uint8Array }[],
): { payload: Uint8Array; prp: Uint8Array } {
  const chaincodeId = new peer.ChaincodeID();
  chaincodeId.setName(proposal.chaincodeName);
  const response = new peer.Response();
  response.setStatus(endorsed.status);
  response.setMessage(endorsed.message);
  response.setPayload(endorsed.payload);
  const action = new peer.ChaincodeAction();
  action.setResults(endorsed.results);
  action.setResponse(response);
  action.setChaincodeId(chaincodeId);
  if (endorsed.event !== undefined) {
    const event = new peer.ChaincodeEvent();
    event.setChaincodeId(proposal.chaincodeName);
    event.setTxId(proposal.txId);
    event.setEventName(endorsed.event.name);
    event.setPayload(endorsed.event.payload);
    action.setEvents(event.serializeBinary());
  }
  const prp = new peer.ProposalResponsePayload();
  prp.setProposalHash(
    createHash('sha256').update(proposal.channelHeaderBytes).update(proposal.signatureHeaderBytes).update(proposal.visiblePayloadBytes).digest(),
  );
  prp.setExtension$(action.serializeBinary());
  const endorsedAction = new peer.ChaincodeEndorsedAction();
  endorsedAction.setProposalResponsePayload(prp.serializeBinary());
  endorsedAction.setEndorsementsList(
    endorsements.map((e) => {
      const endorsement = new peer.Endorsement();
      endorsement.setEndorser(e.endorser);
      endorsement.setSignature(e.signature);
      return endorsement;
    }),
  );
  const actionPayload = new peer.ChaincodeActionPayload();
  actionPayload.setChaincodeProposalPayload(proposal.visiblePayloadBytes);
  actionPayload.setAction(endorsedAction);
  const txAction = new peer.TransactionAction();
  txAction.setHeader(proposal.signatureHeaderBytes);
  txAction.setPayload(actionPayload.serializeBinary());
  const transaction = new peer.Transaction();
  transaction.setActionsList([txAction]);
  const header = new common.Header();
  header.setChannelHeader(proposal.channelHeaderBytes);
  header.setSignatureHeader(proposal.signatureHeaderBytes);
  const payload = new common.Payload();
  payload.setHeader(header);
  payload.setData(transaction.serializeBinary());
  return { payload: payload.serializeBinary(), prp: prp.serializeBinary() };
}

test('the transaction envelope encodes byte for byte as google-protobuf encodes it', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        chaincodeName: fc.string(),
        txId: fc.string(),
        channelHeaderBytes: bytes,
        signatureHeaderBytes: bytes,
        visiblePayloadBytes: bytes,
        status: fc.oneof(fc.constant(200), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })),
        message: fc.string(),
        payload: bytes,
        results: bytes,
        event: fc.option(fc.record({ name: fc.string(), payload: bytes }), { nil: undefined }),
        endorsers: fc.array(fc.record({ identity: bytes, signature: bytes }), { maxLength: 3 }),
      }),
      async (c) => {
        const proposal = {
          txId: c.txId,
          chaincodeName: c.chaincodeName,
          channelHeaderBytes: c.channelHeaderBytes,
          signatureHeaderBytes: c.signatureHeaderBytes,
          visiblePayloadBytes: c.visiblePayloadBytes,
        } as DecodedProposal;
        const endorsed: Endorsed = {
          status: c.status,
          message: c.message,
          payload: c.payload,
          results: c.results,
          ...(c.event === undefined ? {} : { event: c.event }),
        };
        const { envelope, transaction } = await buildTransactionEnvelope(
          proposal,
          endorsed,
          c.endorsers.map((e) => ({ identity: e.identity, signAsync: () => Promise.resolve(e.signature) })),
        );
        const reference = referencePayload(
          proposal,
          endorsed,
          c.endorsers.map((e) => ({ endorser: e.identity, signature: e.signature })),
        );
        assert.deepEqual(Buffer.from(envelope.getPayload_asU8()), Buffer.from(reference.payload));
        assert.deepEqual(Buffer.from(transaction.payloadBytes), Buffer.from(reference.payload));
        assert.deepEqual(Buffer.from(transaction.proposalResponsePayload), Buffer.from(reference.prp));
      },
    ),
    { numRuns: 300 },
  );
});
