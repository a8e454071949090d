import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { common, gateway, peer } from '@hyperledger/fabric-protos';
import type { Logger } from '../observability/logger';
import { decodeProposal, buildTransactionEnvelope, MalformedError, type DecodedProposal, type Endorsed, type UnsignedTransaction } from './transaction';
import { QSCC } from './qscc';
import { validChaincodeEvents } from './blockEvents';
import {
  chaincodeFailed,
  creatorRefusal,
  duplicateTransaction,
  envelopeSigner,
  ordererRefused,
  proposalRefused,
  RpcError,
  toServiceError,
  WRITERS_POLICY_REFUSAL,
  type ProposalStage,
} from './gatewayErrors';
import { encodeRwset } from './rwset';
import { ProtoWriter } from './protoWriter';
import type { EndorsedHere } from './validator';
import type { Member } from './membership';
import type { ChannelState } from './channel';
import { decodeSignaturePolicy, describePolicy, type EndorsementPolicy } from './endorsementPolicy';
import { planEndorsement, type Endorsers } from './endorsers';
import type { LedgerStore } from './store';
import type { Orderer } from './orderer';
import type { Chaincode, SimulationResult } from './simulator/types';

/**
 * The Fabric Gateway gRPC service (`gateway.Gateway`) over the embedded ledger: what a
 * Fabric peer's gateway does, with this process as the orderer and as one endorsing peer per member
 * organization: it collects the endorsements the chaincode's policy and the key-level
 * policies of the keys written require (endorsers.ts).
 * Errors carry gRPC codes and `gateway.ErrorDetail`s as Fabric's gateway sends them, so
 * fabric-gateway clients surface them as EndorseError, SubmitError, CommitStatusError.
 */

export interface GatewayDeps {
  channel: string;
  chaincodes: ReadonlyMap<string, Chaincode>;
  /** The channel's configuration in force: membership and organizations. */
  channelState: ChannelState;
  /** The endorsing identity of each member organization. */
  endorsers: Endorsers;
  /** Each chaincode's endorsement policy. */
  chaincodePolicy: (chaincode: string) => EndorsementPolicy;
  store: LedgerStore;
  orderer: Orderer;
  /** The peer's own MSP id, named in error details. */
  peerMspId: string;
  /** host:port of this peer as clients reach it: the endorser address in error details. */
  address: () => string;
  log: Logger;
}

/** Proposal checks of the endorser (core/endorser/msgvalidation.go), by the code the
 * validator would record for a transaction failing them. */
const PROPOSAL_CHECKS = new Set<number>([
  peer.TxValidationCode.BAD_PROPOSAL_TXID,
  peer.TxValidationCode.BAD_COMMON_HEADER,
  peer.TxValidationCode.UNKNOWN_TX_TYPE,
]);
/** How membership.ts words an identity whose MSP is not on the channel: Fabric cannot
 * deserialize such a creator and says so differently. */
const UNKNOWN_MSP = 'unknown MSP';
/** A CA of the data dir that the channel configuration does not name (membership.ts). */
const NOT_ON_CHANNEL = /^MSP .* is not defined on channel$/;
/** Chaincode responses at or above this status are errors, as in Fabric. */
const ERROR_STATUS = 400;
/** Endorsements remembered until their transaction is submitted (a few KB each); bounded so
 * unsubmitted ones age out: a forgotten one is only decoded and checked in full at commit. */
const ENDORSEMENT_MEMORY = 4096;

interface Endorsement {
  transaction: UnsignedTransaction;
  unseenBelow: number;
  rwsets: EndorsedHere['rwsets'];
  signers: EndorsedHere['signers'];
}

export function gatewayImplementation(deps: GatewayDeps): grpc.UntypedServiceImplementation {
  const { channel, channelState, store, orderer, log } = deps;
  const endorsements = new Map<string, Endorsement>();

  const endorserEndpoint = () => ({ address: deps.address(), mspId: deps.peerMspId });

  function unary<Req, Res>(handler: (request: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      handler(call.request, call).then(
        (response) => callback(null, response),
        (err: unknown) => callback(toServiceError(err, log)),
      );
    };
  }

  function checkChannel(channelId: string): void {
    if (channelId !== channel) throw new RpcError(grpc.status.NOT_FOUND, `channel ${channelId} not found`);
  }

  async function verified(creator: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<Member> {
    const member = await channelState.membership.verifyAsync(creator, message, signature);
    if (member instanceof Error) throw new RpcError(grpc.status.PERMISSION_DENIED, `access denied: ${member.message}`);
    return member;
  }

  async function simulate(
    stage: ProposalStage,
    signed: peer.SignedProposal | undefined,
  ): Promise<{
    proposal: DecodedProposal;
    chaincode: Chaincode;
    result: SimulationResult;
    member: Member;
    run: (endorserMspId: string) => Promise<SimulationResult>;
    /** The height below which the tx id is in no block. */
    unseenBelow: number;
  }> {
    if (signed === undefined) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'a signed proposal is required');
    let proposal: DecodedProposal;
    try {
      proposal = decodeProposal(signed);
    } catch (err) {
      // The header decoded but the peer's proposal checks fail: the endorser refuses it.
      if (err instanceof MalformedError && PROPOSAL_CHECKS.has(err.validationCode)) {
        throw proposalRefused(stage, endorserEndpoint(), `error validating proposal: ${err.message}`);
      }
      throw new RpcError(grpc.status.INVALID_ARGUMENT, `failed to unpack transaction proposal: ${err instanceof MalformedError ? err.message : 'malformed'}`);
    }
    checkChannel(proposal.channelId);
    const member = await channelState.membership.verifyAsync(proposal.creator, proposal.proposalBytes, proposal.signature);
    if (member instanceof Error) {
      log.warn({ reason: member.message, txId: proposal.txId }, 'proposal refused: access denied');
      const unknown = member.message.startsWith(UNKNOWN_MSP) || NOT_ON_CHANNEL.test(member.message);
      throw proposalRefused(stage, endorserEndpoint(), creatorRefusal(channel, proposal.creator, !unknown));
    }
    // Read before the look-up: every block below it is durable, so the look-up sees it.
    const unseenBelow = orderer.height;
    if (store.hasTx(proposal.txId)) throw proposalRefused(stage, endorserEndpoint(), duplicateTransaction(proposal.txId, proposal.creator));
    const chaincode = deps.chaincodes.get(proposal.chaincodeName);
    if (chaincode === undefined) throw new RpcError(grpc.status.NOT_FOUND, `chaincode ${proposal.chaincodeName} not found`);
    const [fn, ...args] = proposal.args.map((a) => a.toString('utf8'));
    if (fn === undefined) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'a transaction name is required');
    // Each endorsing organization's run of the chaincode; the client's own organization's
    // endorser runs first, as its gateway peer does on Fabric.
    const run = async (endorserMspId: string): Promise<SimulationResult> => {
      try {
        return await chaincode.simulate(
          {
            channelId: proposal.channelId,
            endorserMspId,
            txId: proposal.txId,
            timestamp: proposal.timestamp,
            creator: { mspId: member.mspId, certPem: member.certPem },
            fn,
            args,
            transient: proposal.transient,
          },
          store.reader(chaincode.name),
        );
      } catch (err) {
        log.warn({ err, txId: proposal.txId }, 'chaincode simulation threw');
        return {
          status: 500,
          message: err instanceof Error ? err.message : String(err),
          payload: Buffer.alloc(0),
          rwset: { reads: [], rangeReads: [], writes: [] },
        };
      }
    };
    return { proposal, chaincode, result: await run(member.mspId), member, run, unseenBelow };
  }

  /** The organizations that must endorse this result: the chaincode's policy unless every key
   * written carries its own (key-level) policy, and each of those. */
  function plan(chaincode: string, result: SimulationResult, clientMspId: string): string[] {
    const policies: EndorsementPolicy[] = [];
    const keys = new Set([...result.rwset.writes.map((w) => w.key), ...(result.rwset.metadataWrites ?? []).map((m) => m.key)]);
    let chaincodeLevel = keys.size === 0;
    for (const key of keys) {
      const vp = store.validationParameter(chaincode, key);
      if (vp === undefined) chaincodeLevel = true;
      else policies.push(decodeSignaturePolicy(vp));
    }
    if (chaincodeLevel) policies.push(deps.chaincodePolicy(chaincode));
    const chosen = planEndorsement(policies, channelState.orgMspIds, clientMspId);
    if (chosen === undefined) {
      throw new RpcError(
        grpc.status.FAILED_PRECONDITION,
        `no combination of peers can be derived which satisfy the endorsement policy: ${policies.map(describePolicy).join(', ')}`,
      );
    }
    return chosen;
  }

  const evaluate = unary<gateway.EvaluateRequest, gateway.EvaluateResponse>(async (request) => {
    const { result } = await simulate('evaluate', request.getProposedTransaction());
    if (result.status >= ERROR_STATUS) throw chaincodeFailed('evaluate', endorserEndpoint(), result.status, result.message);
    const response = new peer.Response();
    response.setStatus(result.status);
    response.setMessage(result.message);
    response.setPayload(result.payload);
    const reply = new gateway.EvaluateResponse();
    reply.setResult(response);
    return reply;
  });

  const endorse = unary<gateway.EndorseRequest, gateway.EndorseResponse>(async (request) => {
    const { proposal, chaincode, result, member, run, unseenBelow } = await simulate('endorse', request.getProposedTransaction());
    // The ledger queries change nothing: there is no transaction to order.
    if (chaincode.name === QSCC) throw new RpcError(grpc.status.FAILED_PRECONDITION, `${QSCC} answers queries only (Evaluate)`);
    if (result.status >= ERROR_STATUS) throw chaincodeFailed('endorse', endorserEndpoint(), result.status, result.message);
    const orgs = plan(chaincode.name, result, member.mspId);
    const endorsed: Endorsed = {
      status: result.status,
      message: result.message,
      payload: result.payload,
      results: encodeRwset(chaincode.name, result.rwset),
      ...(result.event === undefined ? {} : { event: result.event }),
    };
    // A chaincode that asked which organization endorses may answer each differently: then
    // every other endorser runs it too, and they must agree, as the gateway checks on Fabric.
    if (result.askedMspId === true) {
      for (const mspId of orgs.filter((m) => m !== member.mspId)) {
        if (!sameResponse(endorsed, chaincode.name, await run(mspId))) {
          throw new RpcError(grpc.status.ABORTED, 'failed to assemble transaction: ProposalResponsePayloads do not match', [
            { address: deps.address(), mspId, message: 'the endorsement differs from the first endorser' },
          ]);
        }
      }
    }
    const endorsers = await Promise.all(orgs.map((mspId) => deps.endorsers.get(channelState, mspId)));
    const { envelope, transaction } = await buildTransactionEnvelope(proposal, endorsed, endorsers);
    const reply = new gateway.EndorseResponse();
    reply.setPreparedTransaction(envelope);
    if (endorsements.size >= ENDORSEMENT_MEMORY) endorsements.delete(endorsements.keys().next().value!);
    endorsements.set(proposal.txId, {
      transaction,
      unseenBelow,
      rwsets: [{ namespace: chaincode.name, rwset: result.rwset }],
      signers: orgs.map((mspId) => ({ mspId, isAdmin: false })),
    });
    return reply;
  });

  const submit = unary<gateway.SubmitRequest, gateway.SubmitResponse>(async (request) => {
    checkChannel(request.getChannelId());
    const envelope = request.getPreparedTransaction();
    if (envelope === undefined || envelope.getSignature_asU8().length === 0) {
      throw new RpcError(grpc.status.INVALID_ARGUMENT, 'a signed prepared transaction is required');
    }
    const endorsedHere = recognise(request.getTransactionId(), envelope);
    let creator: Uint8Array;
    if (endorsedHere === undefined) {
      let signer: ReturnType<typeof envelopeSigner>;
      try {
        signer = envelopeSigner(envelope);
      } catch (err) {
        throw ordererRefused('BAD_REQUEST', `could not determine channel ID: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (signer.txId !== request.getTransactionId()) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'transaction id does not match the envelope');
      creator = signer.creator;
    } else creator = endorsedHere.tx.creator;
    // The orderer's signature filter: the envelope must be signed by a channel member (its
    // creator), or it is refused at broadcast and never reaches a block.
    if ((await channelState.membership.verifyAsync(creator, envelope.getPayload_asU8(), envelope.getSignature_asU8())) instanceof Error) {
      throw ordererRefused('FORBIDDEN', WRITERS_POLICY_REFUSAL);
    }
    try {
      // The Envelope's payload (1) and signature (2), as its serializeBinary would write them.
      orderer.submit(new ProtoWriter().bytes(1, envelope.getPayload_asU8()).bytes(2, envelope.getSignature_asU8()).finish(), endorsedHere);
    } catch (err) {
      throw new RpcError(grpc.status.UNAVAILABLE, `the orderer is not accepting transactions: ${err instanceof Error ? err.message : String(err)}`);
    }
    return new gateway.SubmitResponse();
  });

  /** The endorsement this envelope carries when its payload is exactly the one this peer
   * built for `txId` (then its tx id matches too); forgotten once submitted. */
  function recognise(txId: string, envelope: common.Envelope): EndorsedHere | undefined {
    const known = endorsements.get(txId);
    if (known === undefined) return undefined;
    endorsements.delete(txId);
    // The payload built here is kept anyway: comparing bytes costs less than hashing both.
    if (Buffer.compare(envelope.getPayload_asU8(), known.transaction.payloadBytes) !== 0) return undefined;
    return {
      tx: { ...known.transaction, signature: envelope.getSignature_asU8() },
      unseenBelow: known.unseenBelow,
      rwsets: known.rwsets,
      signers: known.signers,
    };
  }

  const commitStatus = unary<gateway.SignedCommitStatusRequest, gateway.CommitStatusResponse>(async (signed, call) => {
    let request: gateway.CommitStatusRequest;
    try {
      request = gateway.CommitStatusRequest.deserializeBinary(signed.getRequest_asU8());
    } catch {
      throw new RpcError(grpc.status.INVALID_ARGUMENT, 'malformed commit status request');
    }
    checkChannel(request.getChannelId());
    await verified(request.getIdentity_asU8(), signed.getRequest_asU8(), signed.getSignature_asU8());
    const abort = new AbortController();
    const onCancelled = () => abort.abort();
    call.once('cancelled', onCancelled);
    let status;
    try {
      status = await orderer.waitForTx(request.getTransactionId(), abort.signal);
    } catch (err) {
      if (abort.signal.aborted) throw new RpcError(grpc.status.CANCELLED, 'commit status request cancelled');
      throw new RpcError(grpc.status.UNAVAILABLE, `commit status unavailable: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      // grpc-js may still emit 'cancelled' as the finished call closes; aborting then only costs.
      call.off('cancelled', onCancelled);
    }
    const reply = new gateway.CommitStatusResponse();
    reply.setResult(status.code as peer.TxValidationCodeMap[keyof peer.TxValidationCodeMap]);
    reply.setBlockNumber(status.blockNum);
    return reply;
  });

  const chaincodeEvents: grpc.handleServerStreamingCall<gateway.SignedChaincodeEventsRequest, gateway.ChaincodeEventsResponse> = (call) => {
    streamEvents(call).catch((err: unknown) => {
      const { code, details, metadata } = toServiceError(err, log);
      call.destroy(Object.assign(new Error(details), { code, details, metadata }));
    });
  };

  async function streamEvents(call: grpc.ServerWritableStream<gateway.SignedChaincodeEventsRequest, gateway.ChaincodeEventsResponse>): Promise<void> {
    let request: gateway.ChaincodeEventsRequest;
    try {
      request = gateway.ChaincodeEventsRequest.deserializeBinary(call.request.getRequest_asU8());
    } catch {
      throw new RpcError(grpc.status.INVALID_ARGUMENT, 'malformed chaincode events request');
    }
    checkChannel(request.getChannelId());
    await verified(request.getIdentity_asU8(), call.request.getRequest_asU8(), call.request.getSignature_asU8());
    const chaincodeName = request.getChaincodeId();
    const start = request.getStartPosition();
    let cursor = start?.getSpecified() !== undefined ? start.getSpecified()!.getNumber() : start?.getOldest() !== undefined ? 0 : orderer.height;
    // As Fabric's gateway: a known afterTransactionId starts at its block, past its event.
    const after = request.getAfterTransactionId();
    const afterTx = after === '' ? undefined : store.txStatus(after);
    if (afterTx !== undefined) cursor = afterTx.blockNum;
    const skipThrough = afterTx?.txNum ?? -1;
    const startBlock = cursor;

    let wake: (() => void) | undefined;
    let closed = false;
    const unsubscribe = orderer.onBlock(() => wake?.());
    const stop = () => {
      closed = true;
      wake?.();
    };
    call.once('cancelled', stop);
    call.once('close', stop);
    try {
      while (!closed) {
        const height = orderer.height;
        while (cursor < height && !closed) {
          const upTo = Math.min(height, cursor + 256);
          for (const blockNum of store.eventBlocks(chaincodeName, cursor, upTo)) {
            const stored = store.block(blockNum);
            if (stored === undefined) continue;
            const events = validChaincodeEvents(common.Block.deserializeBinary(stored.bytes), chaincodeName).filter(
              (e) => !(blockNum === startBlock && e.txNum <= skipThrough),
            );
            if (events.length === 0) continue;
            const reply = new gateway.ChaincodeEventsResponse();
            reply.setBlockNumber(blockNum);
            reply.setEventsList(events.map((e) => e.event));
            if (!call.write(reply)) await Promise.race([once(call, 'drain'), once(call, 'cancelled')]);
            if (closed) return;
          }
          cursor = upTo;
        }
        if (orderer.height === cursor) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      unsubscribe();
    }
  }

  return { evaluate, endorse, submit, commitStatus, chaincodeEvents };
}

function sameResponse(endorsed: Endorsed, chaincode: string, other: SimulationResult): boolean {
  return (
    other.status === endorsed.status &&
    other.message === endorsed.message &&
    Buffer.from(other.payload).equals(Buffer.from(endorsed.payload)) &&
    Buffer.from(encodeRwset(chaincode, other.rwset)).equals(Buffer.from(endorsed.results)) &&
    other.event?.name === endorsed.event?.name &&
    Buffer.from(other.event?.payload ?? []).equals(Buffer.from(endorsed.event?.payload ?? []))
  );
}
