import * as grpc from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import { common, gateway, google, msp } from '@hyperledger/fabric-protos';
import type { Logger } from '../observability/logger';

/**
 * Errors as a Fabric 2.5 peer's gateway answers them (internal/pkg/gateway: evaluate.go,
 * endorse.go, submit.go, apiutils.go), so a fabric-gateway client sees the same gRPC code,
 * message and `gateway.ErrorDetail`s (endorser address host:port, MSP id, message) from the
 * embedded peer as from a network:
 * - the peer refuses a proposal before running the chaincode (identity, signature, tx id,
 *   duplicate: core/endorser ProcessProposal's preProcess): Evaluate FAILED_PRECONDITION
 *   "evaluate call to endorser returned error: <why>", Endorse ABORTED "failed to endorse
 *   transaction, see attached details for more info", the reason in the detail;
 * - the chaincode answers an error: Evaluate UNKNOWN, Endorse ABORTED, the detail
 *   "chaincode response <status>, <message>";
 * - the orderer refuses an envelope at broadcast (its signature filter): Submit ABORTED
 *   "received unsuccessful response from orderer: status=FORBIDDEN, info=...", no details.
 */

/** One endorser's or orderer's part of a failure (gateway.ErrorDetail). */
export interface EndpointError {
  address: string;
  mspId: string;
  message: string;
}

export class RpcError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
    readonly details: readonly EndpointError[] = [],
  ) {
    super(message);
  }
}

export type ProposalStage = 'evaluate' | 'endorse';

const ENDORSE_FAILED = 'failed to endorse transaction, see attached details for more info';

/** The endorsing peer refused the proposal itself (responseStatus: an error with a response). */
export function proposalRefused(stage: ProposalStage, endorser: Omit<EndpointError, 'message'>, message: string): RpcError {
  const detail = { ...endorser, message };
  return stage === 'evaluate'
    ? new RpcError(grpc.status.FAILED_PRECONDITION, `evaluate call to endorser returned error: ${message}`, [detail])
    : new RpcError(grpc.status.ABORTED, ENDORSE_FAILED, [detail]);
}

/** The chaincode answered with an error status (responseStatus: a response with a payload). */
export function chaincodeFailed(stage: ProposalStage, endorser: Omit<EndpointError, 'message'>, status: number, message: string): RpcError {
  const text = `chaincode response ${status}, ${message}`;
  const detail = { ...endorser, message: text };
  return stage === 'evaluate'
    ? new RpcError(grpc.status.UNKNOWN, `evaluate call to endorser returned error: ${text}`, [detail])
    : new RpcError(grpc.status.ABORTED, ENDORSE_FAILED, [detail]);
}

/** core/endorser/msgvalidation.go: why a creator was refused. Fabric names the claimed MSP
 * only when the identity deserializes (its MSP is on the channel and its certificate parses). */
export function creatorRefusal(channel: string, creator: Uint8Array, mspKnown: boolean): string {
  const mspId = deserializableMspId(creator);
  return mspId === undefined || !mspKnown
    ? `error validating proposal: access denied: channel [${channel}] creator org unknown, creator is malformed`
    : `error validating proposal: access denied: channel [${channel}] creator org [${mspId}]`;
}

function deserializableMspId(creator: Uint8Array): string | undefined {
  try {
    const identity = msp.SerializedIdentity.deserializeBinary(creator);
    new X509Certificate(Buffer.from(identity.getIdBytes_asU8()));
    return identity.getMspid();
  } catch {
    return undefined;
  }
}

/** core/endorser: a tx id the peer has already committed. */
export function duplicateTransaction(txId: string, creator: Uint8Array): string {
  return `duplicate transaction found [${txId}]. Creator [${Buffer.from(creator).toString('hex')}]`;
}

/** The orderer's Broadcast answered a client error (4xx): the gateway does not retry. */
export function ordererRefused(status: 'BAD_REQUEST' | 'FORBIDDEN', info: string): RpcError {
  return new RpcError(grpc.status.ABORTED, `received unsuccessful response from orderer: status=${status}, info=${info}`);
}

/** What the orderer's signature filter says when the envelope does not satisfy
 * /Channel/Writers (an ImplicitMeta ANY Writers policy; msgprocessor/sigfilter.go). */
export const WRITERS_POLICY_REFUSAL =
  "implicit policy evaluation failed - 0 sub-policies were satisfied, but this policy requires 1 of the 'Writers' sub-policies to be satisfied: permission denied";

/** The creator and signed bytes of an envelope, as the orderer reads them to check its signature. */
export function envelopeSigner(envelope: common.Envelope): { txId: string; creator: Uint8Array } {
  const header = common.Payload.deserializeBinary(envelope.getPayload_asU8()).getHeader();
  if (header === undefined) throw new Error('envelope has no header');
  const txId = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8()).getTxId();
  const creator = common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8()).getCreator_asU8();
  return { txId, creator };
}

/** A gRPC status with the details as `grpc-status-details-bin` (google.rpc.Status), which
 * fabric-gateway decodes into GatewayError.details. */
export function toServiceError(err: unknown, log: Logger): Partial<grpc.StatusObject> {
  if (!(err instanceof RpcError)) {
    log.error({ err }, 'gateway request failed');
    return { code: grpc.status.INTERNAL, details: 'internal error' };
  }
  const metadata = new grpc.Metadata();
  if (err.details.length > 0) {
    const status = new google.rpc.Status();
    status.setCode(err.code);
    status.setMessage(err.message);
    for (const d of err.details) {
      const detail = new gateway.ErrorDetail();
      detail.setAddress(d.address);
      detail.setMspId(d.mspId);
      detail.setMessage(d.message);
      const any = status.addDetails() as { setTypeUrl(url: string): void; setValue(value: Uint8Array): void };
      any.setTypeUrl('type.googleapis.com/gateway.ErrorDetail');
      any.setValue(detail.serializeBinary());
    }
    metadata.set('grpc-status-details-bin', Buffer.from(status.serializeBinary()));
  }
  return { code: err.code, details: err.message, metadata };
}
