import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { EndorseError, GatewayError, type ErrorDetail } from '@hyperledger/fabric-gateway';
import { common, gateway as gatewayProtos, peer } from '@hyperledger/fabric-protos';
import { newEcdsaSigner } from '../../../src/adapters/ledger/ecdsa';
import { getOrIssueIdentity } from '../../../src/ledger-peer/localCa';
import { CHANNEL, newAssetId, qscc, startConformancePeer, type Client, type ConformancePeer } from './support';

/**
 * Errors as a Fabric 2.5 gateway answers them (internal/pkg/gateway): a proposal the endorser
 * refuses (identity, signature) is FAILED_PRECONDITION on Evaluate and ABORTED on Endorse,
 * with an ErrorDetail naming the endorser (host:port, MSP id) and the reason; an envelope
 * signed with the wrong key is refused at Submit, as the orderer's signature filter does.
 */

let f: ConformancePeer;
let member: Client;
before(async () => {
  f = await startConformancePeer();
  member = await f.client('org1', 'appUser');
});
after(() => f.close());

const PEER_MSP = 'Ledgerflow-peerMSP';

function refusedDetail(details: ErrorDetail[], message: string): void {
  assert.equal(details.length, 1);
  assert.deepEqual({ ...details[0] }, { address: f.peer.endpoint, mspId: PEER_MSP, message });
}

/** Evaluate and submit of a proposal by `client` are refused by the endorser with `reason`. */
async function refusedBothWays(client: Client, reason: string): Promise<void> {
  await assert.rejects(client.assets.evaluateTransaction('ReadAsset', 'anything'), (err: unknown) => {
    assert.ok(err instanceof GatewayError, String(err));
    assert.equal(err.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(err.message, `9 FAILED_PRECONDITION: evaluate call to endorser returned error: ${reason}`);
    refusedDetail(err.details, reason);
    return true;
  });
  await assert.rejects(client.assets.submitTransaction('CreateAsset', newAssetId(), 'red', '1', 'x', '1'), (err: unknown) => {
    assert.ok(err instanceof EndorseError, String(err));
    assert.equal(err.code, grpc.status.ABORTED);
    assert.equal(err.message, '10 ABORTED: failed to endorse transaction, see attached details for more info');
    refusedDetail(err.details, reason);
    return true;
  });
}

test('an identity from a CA outside the channel is refused, naming the org it claims', async () => {
  const foreign = await getOrIssueIdentity(`${f.dataDir}/elsewhere`, 'org1', 'mallory');
  const client = f.connectWith({ mspId: foreign.mspId, credentials: Buffer.from(foreign.certPem) }, newEcdsaSigner(foreign.keyPem));
  await refusedBothWays(client, `error validating proposal: access denied: channel [${CHANNEL}] creator org [${foreign.mspId}]`);
});

test('an identity of an MSP the channel does not know is refused as malformed', async () => {
  const foreign = await getOrIssueIdentity(`${f.dataDir}/elsewhere`, 'nowhere', 'mallory');
  const client = f.connectWith({ mspId: foreign.mspId, credentials: Buffer.from(foreign.certPem) }, newEcdsaSigner(foreign.keyPem));
  await refusedBothWays(client, `error validating proposal: access denied: channel [${CHANNEL}] creator org unknown, creator is malformed`);
});

test("a member's certificate with a proposal signed by another key is refused", async () => {
  const known = await getOrIssueIdentity(f.peer.mspDir, 'org1', 'appUser');
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const forger = f.connectWith({ mspId: known.mspId, credentials: Buffer.from(known.certPem) }, newEcdsaSigner(privateKey));
  await refusedBothWays(forger, `error validating proposal: access denied: channel [${CHANNEL}] creator org [${known.mspId}]`);
});

test("an envelope signed with the wrong key is refused at submit (the orderer's signature filter) and never reaches a block", async () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const wrongKey = newEcdsaSigner(privateKey);
  const heightBefore = (await qscc.chainInfo(member)).getHeight();
  // Offline signing, as fabric-gateway offers it: endorse, then sign the prepared transaction.
  const endorsed = await member.assets.newProposal('CreateAsset', { arguments: [newAssetId(), 'red', '1', 'x', '1'] }).endorse();
  const unsigned = member.gateway.newTransaction(endorsed.getBytes());
  const signed = member.gateway.newSignedTransaction(unsigned.getBytes(), await wrongKey(unsigned.getDigest()));
  await assert.rejects(signed.submit(), (err: unknown) => {
    assert.ok(err instanceof GatewayError, String(err));
    assert.equal(err.name, 'SubmitError');
    assert.equal(err.code, grpc.status.ABORTED);
    assert.equal(
      err.message,
      "10 ABORTED: received unsuccessful response from orderer: status=FORBIDDEN, info=implicit policy evaluation failed - 0 sub-policies were satisfied, but this policy requires 1 of the 'Writers' sub-policies to be satisfied: permission denied",
    );
    assert.deepEqual(err.details, []);
    return true;
  });
  await assert.rejects(member.qscc.evaluateTransaction('GetTransactionByID', CHANNEL, endorsed.getTransactionId()), /no such transaction ID/);
  assert.equal((await qscc.chainInfo(member)).getHeight(), heightBefore);
});

test('a proposal whose transaction id is not sha256(nonce + creator) is refused by the endorser', async () => {
  const identity = await getOrIssueIdentity(f.peer.mspDir, 'org1', 'appUser');
  const proposal = member.assets.newProposal('ReadAsset', { arguments: ['x'] });
  const proposed = gatewayProtos.ProposedTransaction.deserializeBinary(proposal.getBytes());
  const signedProposal = proposed.getProposal()!;
  const body = peer.Proposal.deserializeBinary(signedProposal.getProposalBytes_asU8());
  const header = common.Header.deserializeBinary(body.getHeader_asU8());
  const channelHeader = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
  const honest = channelHeader.getTxId();
  channelHeader.setTxId('f'.repeat(64));
  header.setChannelHeader(channelHeader.serializeBinary());
  body.setHeader(header.serializeBinary());
  const bytes = body.serializeBinary();
  signedProposal.setProposalBytes(bytes);
  proposed.setProposal(signedProposal);
  const forged = member.gateway.newSignedProposal(proposed.serializeBinary(), await newEcdsaSigner(identity.keyPem)(bytes));
  const reason = `error validating proposal: incorrectly computed txid '${'f'.repeat(64)}' -- expected '${honest}'`;
  await assert.rejects(forged.evaluate(), (err: unknown) => {
    assert.ok(err instanceof GatewayError, String(err));
    assert.equal(err.code, grpc.status.FAILED_PRECONDITION);
    refusedDetail(err.details, reason);
    return true;
  });
});

test('a signed proposal whose bytes are cut short or garbled is refused as malformed, and the peer goes on serving', async () => {
  const identity = await getOrIssueIdentity(f.peer.mspDir, 'org1', 'appUser');
  const sign = newEcdsaSigner(identity.keyPem);
  const proposal = member.assets.newProposal('ReadAsset', { arguments: ['x'] });
  const proposed = gatewayProtos.ProposedTransaction.deserializeBinary(proposal.getBytes());
  const whole = proposed.getProposal()!.getProposalBytes_asU8();
  // fabric-gateway decodes what it sends, so these bytes go to the Gateway service as they are.
  const raw = new grpc.Client(f.peer.endpoint, grpc.credentials.createInsecure());
  const evaluate = async (bytes: Uint8Array): Promise<grpc.ServiceError> => {
    const signed = new peer.SignedProposal();
    signed.setProposalBytes(bytes);
    signed.setSignature(await sign(bytes));
    const request = new gatewayProtos.EvaluateRequest();
    request.setTransactionId(proposed.getTransactionId());
    request.setChannelId(CHANNEL);
    request.setProposedTransaction(signed);
    return new Promise((resolve, reject) =>
      raw.makeUnaryRequest(
        '/gateway.Gateway/Evaluate',
        (r: gatewayProtos.EvaluateRequest) => Buffer.from(r.serializeBinary()),
        (b: Buffer) => gatewayProtos.EvaluateResponse.deserializeBinary(b),
        request,
        (err) => (err ? resolve(err) : reject(new Error('a malformed proposal was evaluated'))),
      ),
    );
  };
  try {
    // Cut inside the header (a length prefix then points past the end), and every byte flipped.
    for (const bytes of [whole.subarray(0, 40), whole.map((b) => b ^ 0xff)]) {
      const err = await evaluate(bytes);
      // As Fabric's gateway answers a proposal it cannot unpack (internal/pkg/gateway/api.go).
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT, err.message);
      assert.match(err.message, /^3 INVALID_ARGUMENT: failed to unpack transaction proposal: /);
    }
  } finally {
    raw.close();
  }
  // The honest proposal made before is still answered (with the chaincode's own verdict).
  await assert.rejects(proposal.evaluate(), /does not exist/);
});
