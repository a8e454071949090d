import { common, msp, peer } from '@hyperledger/fabric-protos';
import type { SimulationInput } from './types';

interface TimestampMessage {
  setSeconds(value: number): void;
  setNanos(value: number): void;
}
// google-protobuf ships no typings; this is the one class used from it.
const { Timestamp } = require('google-protobuf/google/protobuf/timestamp_pb') as {
  Timestamp: new () => TimestampMessage;
};

export interface ShimInvocation {
  input: peer.ChaincodeInput;
  signedProposal: peer.SignedProposal;
}

/**
 * Builds the messages a peer hands to a chaincode container: the ChaincodeInput (function
 * and arguments) and the client's SignedProposal, from which fabric-shim's stub decodes
 * the creator, the transaction timestamp, the transient map and the binding. The proposal
 * is unsigned: the peer has already authenticated the client before simulating.
 */
export function buildInvocation(chaincodeName: string, input: SimulationInput): ShimInvocation {
  const ccInput = new peer.ChaincodeInput();
  ccInput.setArgsList([Buffer.from(input.fn, 'utf8'), ...input.args.map((a) => Buffer.from(a, 'utf8'))]);

  const chaincodeId = new peer.ChaincodeID();
  chaincodeId.setName(chaincodeName);
  const spec = new peer.ChaincodeSpec();
  spec.setType(peer.ChaincodeSpec.Type.NODE);
  spec.setChaincodeId(chaincodeId);
  spec.setInput(ccInput);
  const invocation = new peer.ChaincodeInvocationSpec();
  invocation.setChaincodeSpec(spec);

  const payload = new peer.ChaincodeProposalPayload();
  payload.setInput(invocation.serializeBinary());
  const transient = payload.getTransientmapMap();
  for (const [k, v] of input.transient ?? []) transient.set(k, v);

  const creator = new msp.SerializedIdentity();
  creator.setMspid(input.creator.mspId);
  creator.setIdBytes(Buffer.from(input.creator.certPem, 'utf8'));
  const signatureHeader = new common.SignatureHeader();
  signatureHeader.setCreator(creator.serializeBinary());
  signatureHeader.setNonce(Buffer.from(input.txId, 'utf8'));

  const millis = input.timestamp.getTime();
  const timestamp = new Timestamp();
  timestamp.setSeconds(Math.floor(millis / 1000));
  timestamp.setNanos((millis % 1000) * 1_000_000);
  const extension = new peer.ChaincodeHeaderExtension();
  extension.setChaincodeId(chaincodeId);
  const channelHeader = new common.ChannelHeader();
  channelHeader.setType(common.HeaderType.ENDORSER_TRANSACTION);
  channelHeader.setChannelId(input.channelId);
  channelHeader.setTxId(input.txId);
  channelHeader.setTimestamp(timestamp as never);
  channelHeader.setExtension$(extension.serializeBinary());

  const header = new common.Header();
  header.setChannelHeader(channelHeader.serializeBinary());
  header.setSignatureHeader(signatureHeader.serializeBinary());
  const proposal = new peer.Proposal();
  proposal.setHeader(header.serializeBinary());
  proposal.setPayload(payload.serializeBinary());
  const signedProposal = new peer.SignedProposal();
  signedProposal.setProposalBytes(proposal.serializeBinary());

  return { input: ccInput, signedProposal };
}
