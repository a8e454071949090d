import { createHash } from 'node:crypto';
import type { SimulationInput } from './types';

/**
 * What fabric-shim's ChaincodeStub decodes from the peer's messages, given to it directly.
 *
 * A peer hands a chaincode container a ChaincodeInput and the client's SignedProposal;
 * the stub decodes the creator, the transaction timestamp, the transient map and the
 * binding from the proposal. Encoding a proposal with google-protobuf only for the stub to
 * decode it again costs more than the rest of a lease transaction, so the simulator sets
 * the decoded fields (those of fabric-shim 2.5.8's stub) itself.
 */
export interface DecodedProposalFields {
  creator: { mspid: string; idBytes: Uint8Array };
  txTimestamp: { getSeconds(): number; getNanos(): number; toDate(): Date };
  transientMap: Map<string, Buffer>;
  signedProposal: {
    signature: Uint8Array;
    proposal: {
      header: {
        channelHeader: { channelId: string; txId: string; timestamp: Date };
        signatureHeader: { nonce: Uint8Array; creator: { mspid: string; idBytes: Uint8Array } };
      };
      payload: { transientMap: Map<string, Buffer> };
    };
  };
}

/** The ChaincodeInput's one accessor the stub uses. */
export interface ChaincodeInputLike {
  getArgsList_asU8(): Uint8Array[];
}

export function chaincodeInput(input: SimulationInput): ChaincodeInputLike {
  const args = [Buffer.from(input.fn, 'utf8'), ...input.args.map((a) => Buffer.from(a, 'utf8'))];
  return { getArgsList_asU8: () => args };
}

export function decodedProposal(input: SimulationInput): DecodedProposalFields {
  const creator = { mspid: input.creator.mspId, idBytes: Buffer.from(input.creator.certPem, 'utf8') };
  const millis = input.timestamp.getTime();
  const seconds = Math.floor(millis / 1000);
  const nanos = (millis - seconds * 1000) * 1_000_000;
  const transientMap = new Map(input.transient ?? []);
  // The proposal carries no client nonce here; the transaction id stands in for it.
  const nonce = Buffer.from(input.txId, 'utf8');
  return {
    creator,
    txTimestamp: { getSeconds: () => seconds, getNanos: () => nanos, toDate: () => new Date(millis) },
    transientMap,
    signedProposal: {
      signature: new Uint8Array(),
      proposal: {
        header: {
          channelHeader: { channelId: input.channelId, txId: input.txId, timestamp: new Date(millis) },
          signatureHeader: { nonce, creator },
        },
        payload: { transientMap },
      },
    },
  };
}

/** sha256(nonce | creator | epoch 0), the shape of Fabric's proposal binding. */
export function proposalBinding(input: SimulationInput): string {
  return createHash('sha256').update(input.txId).update(input.creator.mspId).update(input.creator.certPem).update(Buffer.alloc(8)).digest('hex');
}
