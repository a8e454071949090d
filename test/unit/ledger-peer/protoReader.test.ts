import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { common, peer } from '@hyperledger/fabric-protos';
import { dirname } from 'node:path';
import { computeTxId, decodeProposal, MalformedError } from '../../../src/ledger-peer/transaction';

// The peer reads proposals with its own reader (protoReader.ts); google-protobuf, which
// fabric-protos and every Fabric client use, is the reference: the same fields must come out.

// The Timestamp class fabric-protos builds its headers with (its own google-protobuf).
const { Timestamp } = require(
  require.resolve('google-protobuf/google/protobuf/timestamp_pb', { paths: [dirname(require.resolve('@hyperledger/fabric-protos'))] }),
) as { Timestamp: new () => { setSeconds(s: number): void; setNanos(n: number): void } };

const bytes = (max = 40) => fc.uint8Array({ minLength: 1, maxLength: max });
const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }));

const proposalArb = fc.record({
  channelId: text,
  type: fc.oneof(fc.constant(common.HeaderType.ENDORSER_TRANSACTION as number), fc.integer({ min: -5, max: 10 })),
  seconds: fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: undefined }),
  nanos: fc.integer({ min: 0, max: 999_999_999 }),
  epoch: fc.nat(),
  creator: bytes(120),
  nonce: bytes(24),
  chaincode: text,
  version: text,
  args: fc.array(fc.uint8Array({ maxLength: 30 }), { maxLength: 5 }),
  transient: fc.array(fc.tuple(text, fc.uint8Array({ maxLength: 20 })), { maxLength: 3 }),
  badTxId: fc.boolean(),
});

type ProposalFields = typeof proposalArb extends fc.Arbitrary<infer T> ? T : never;

function build(p: ProposalFields): peer.SignedProposal {
  const ch = new common.ChannelHeader();
  ch.setType(p.type);
  ch.setChannelId(p.channelId);
  ch.setTxId(p.badTxId ? 'not-the-tx-id' : computeTxId(p.nonce, p.creator));
  ch.setEpoch(p.epoch);
  if (p.seconds !== undefined) {
    const ts = new Timestamp();
    ts.setSeconds(p.seconds);
    ts.setNanos(p.nanos);
    ch.setTimestamp(ts as never);
  }
  const sh = new common.SignatureHeader();
  sh.setCreator(p.creator);
  sh.setNonce(p.nonce);
  const header = new common.Header();
  header.setChannelHeader(ch.serializeBinary());
  header.setSignatureHeader(sh.serializeBinary());
  const id = new peer.ChaincodeID();
  id.setName(p.chaincode);
  id.setVersion(p.version);
  const input = new peer.ChaincodeInput();
  input.setArgsList(p.args);
  const spec = new peer.ChaincodeSpec();
  spec.setChaincodeId(id);
  spec.setInput(input);
  const invocation = new peer.ChaincodeInvocationSpec();
  invocation.setChaincodeSpec(spec);
  const payload = new peer.ChaincodeProposalPayload();
  payload.setInput(invocation.serializeBinary());
  for (const [k, v] of p.transient) payload.getTransientmapMap().set(k, v);
  const proposal = new peer.Proposal();
  proposal.setHeader(header.serializeBinary());
  proposal.setPayload(payload.serializeBinary());
  const signed = new peer.SignedProposal();
  signed.setProposalBytes(proposal.serializeBinary());
  signed.setSignature(new Uint8Array([1, 2, 3]));
  return signed;
}

/** What google-protobuf reads from the same bytes. */
function reference(signed: peer.SignedProposal) {
  const proposal = peer.Proposal.deserializeBinary(signed.getProposalBytes_asU8());
  const header = common.Header.deserializeBinary(proposal.getHeader_asU8());
  const ch = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
  const sh = common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8());
  const payload = peer.ChaincodeProposalPayload.deserializeBinary(proposal.getPayload_asU8());
  const spec = peer.ChaincodeInvocationSpec.deserializeBinary(payload.getInput_asU8()).getChaincodeSpec()!;
  const ts = ch.getTimestamp();
  const transient = new Map<string, Buffer>();
  payload.getTransientmapMap().forEach((v: Uint8Array | string, k: string) => transient.set(k, Buffer.from(v as Uint8Array)));
  return {
    type: ch.getType(),
    txId: ch.getTxId(),
    channelId: ch.getChannelId(),
    timestamp: ts === undefined ? new Date(0) : new Date(ts.getSeconds() * 1000 + Math.floor(ts.getNanos() / 1e6)),
    creator: Buffer.from(sh.getCreator_asU8()),
    nonce: Buffer.from(sh.getNonce_asU8()),
    chaincodeName: spec.getChaincodeId()!.getName(),
    args: spec
      .getInput()!
      .getArgsList_asU8()
      .map((a) => Buffer.from(a)),
    transient,
    visiblePayloadBytes: (() => {
      const visible = new peer.ChaincodeProposalPayload();
      visible.setInput(payload.getInput_asU8());
      return Buffer.from(visible.serializeBinary());
    })(),
  };
}

test('proposals read as google-protobuf reads them, and refused as before when their header is wrong', () => {
  fc.assert(
    fc.property(proposalArb, (p) => {
      const signed = build(p);
      const want = reference(signed);
      if (want.type !== common.HeaderType.ENDORSER_TRANSACTION || p.badTxId) {
        assert.throws(() => decodeProposal(signed), MalformedError);
        return;
      }
      const got = decodeProposal(signed);
      assert.equal(got.txId, want.txId);
      assert.equal(got.channelId, want.channelId);
      assert.equal(got.timestamp.getTime(), want.timestamp.getTime());
      assert.deepEqual(Buffer.from(got.creator), want.creator);
      assert.deepEqual(Buffer.from(got.nonce), want.nonce);
      assert.equal(got.chaincodeName, want.chaincodeName);
      assert.deepEqual(got.args, want.args);
      assert.deepEqual(got.transient, want.transient);
      assert.deepEqual(Buffer.from(got.visiblePayloadBytes), want.visiblePayloadBytes);
    }),
    { numRuns: 300 },
  );
});

test('a field repeated on the wire: the last occurrence wins, as in google-protobuf', () => {
  const signed = build({
    channelId: 'ledgerflow',
    type: common.HeaderType.ENDORSER_TRANSACTION,
    seconds: 1_700_000_000,
    nanos: 5_000_000,
    epoch: 0,
    creator: new Uint8Array([1, 2, 3]),
    nonce: new Uint8Array([4, 5]),
    chaincode: 'ledgerflow',
    version: '',
    args: [Buffer.from('TakeLease')],
    transient: [],
    badTxId: false,
  });
  const proposal = peer.Proposal.deserializeBinary(signed.getProposalBytes_asU8());
  const other = new peer.ChaincodeProposalPayload();
  const spec = peer.ChaincodeInvocationSpec.deserializeBinary(peer.ChaincodeProposalPayload.deserializeBinary(proposal.getPayload_asU8()).getInput_asU8());
  spec.getChaincodeSpec()!.getChaincodeId()!.setName('other');
  other.setInput(spec.serializeBinary());
  // The payload field twice: the second one is the proposal's payload.
  const second = new peer.Proposal();
  second.setPayload(other.serializeBinary());
  const twice = Buffer.concat([Buffer.from(signed.getProposalBytes_asU8()), Buffer.from(second.serializeBinary())]);
  signed.setProposalBytes(twice);
  assert.equal(reference(signed).chaincodeName, 'other');
  assert.equal(decodeProposal(signed).chaincodeName, 'other');
});

test('truncated or garbled proposals are malformed, or read as google-protobuf reads them', () => {
  fc.assert(
    fc.property(proposalArb, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 }), (p, cut, junk) => {
      const signed = build({ ...p, type: common.HeaderType.ENDORSER_TRANSACTION, badTxId: false });
      const full = signed.getProposalBytes_asU8();
      for (const bad of [full.subarray(0, cut % full.length), Buffer.concat([full, junk])]) {
        signed.setProposalBytes(bad);
        let got;
        try {
          got = decodeProposal(signed);
        } catch (err) {
          // Whatever google-protobuf made of it, the peer refuses it as a malformed proposal.
          assert.ok(err instanceof MalformedError, String(err));
          continue;
        }
        let want;
        try {
          want = reference(signed);
        } catch {
          // google-protobuf refuses a field the peer does not read when its wire type is wrong;
          // protobuf-go, Fabric's, reads it as an unknown field, as the peer's reader does.
          continue;
        }
        assert.equal(got.txId, want.txId);
        assert.equal(got.chaincodeName, want.chaincodeName);
        assert.deepEqual(got.args, want.args);
        assert.deepEqual(got.transient, want.transient);
      }
    }),
    { numRuns: 300 },
  );
});
