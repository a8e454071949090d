import { hash } from 'node:crypto';
import { common, peer } from '@hyperledger/fabric-protos';
import { ProtoWriter } from './protoWriter';
import { readFields } from './protoReader';

/**
 * Fabric's transaction wire formats, as the peer reads and writes them: a signed proposal
 * from a client, the transaction envelope a peer prepares from an endorsement (the client
 * signs and submits it), and that envelope again when it is validated in a block.
 */

export class MalformedError extends Error {
  constructor(
    message: string,
    readonly validationCode: number = peer.TxValidationCode.BAD_PAYLOAD,
  ) {
    super(message);
  }
}

export interface TxHeader {
  txId: string;
  channelId: string;
  timestamp: Date;
  creator: Uint8Array;
  nonce: Uint8Array;
  /** The serialized channel and signature headers, reused verbatim in the envelope. */
  channelHeaderBytes: Uint8Array;
  signatureHeaderBytes: Uint8Array;
}

export interface DecodedProposal extends TxHeader {
  proposalBytes: Uint8Array;
  signature: Uint8Array;
  chaincodeName: string;
  args: Buffer[];
  transient: Map<string, Buffer>;
  /** ChaincodeProposalPayload without the transient map (what the transaction carries). */
  visiblePayloadBytes: Uint8Array;
}

function must<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new MalformedError(`missing ${what}`);
  return value;
}

function parse<T>(what: string, fn: () => T, code?: number): T {
  try {
    return fn();
  } catch (err) {
    throw err instanceof MalformedError ? err : new MalformedError(`malformed ${what}`, code);
  }
}

/** The transaction id Fabric derives: hex sha256 of nonce || creator. */
export function computeTxId(nonce: Uint8Array, creator: Uint8Array): string {
  // One call rather than a Hash object (crypto.hash): the concatenation is ~1 KB.
  return hash('sha256', Buffer.concat([nonce, creator]), 'hex');
}

const headerTypeName = (type: number): string => Object.entries(common.HeaderType).find(([, v]) => v === type)?.[0] ?? String(type);

/** ChannelHeader (common/common.proto): the fields the peer reads. */
function readChannelHeader(bytes: Uint8Array): { type: number; channelId: string; txId: string; seconds: number; nanos: number } {
  const ch = { type: 0, channelId: '', txId: '', seconds: 0, nanos: 0 };
  readFields(bytes, (r) => {
    if (r.field === 1) ch.type = r.int32();
    else if (r.field === 3) {
      // google.protobuf.Timestamp: seconds (1), nanos (2); a later occurrence replaces it whole.
      ch.seconds = 0;
      ch.nanos = 0;
      readFields(r.bytes(), (t) => {
        if (t.field === 1) ch.seconds = t.int64();
        else if (t.field === 2) ch.nanos = t.int32();
        else t.skip();
      });
    } else if (r.field === 4) ch.channelId = r.string();
    else if (r.field === 5) ch.txId = r.string();
    else r.skip();
  });
  return ch;
}

function decodeHeader(channelHeaderBytes: Uint8Array, signatureHeaderBytes: Uint8Array): TxHeader {
  const ch = parse('channel header', () => readChannelHeader(channelHeaderBytes), peer.TxValidationCode.BAD_CHANNEL_HEADER);
  // SignatureHeader: creator (1), nonce (2).
  const sh = parse(
    'signature header',
    () => {
      const fields: { creator: Uint8Array; nonce: Uint8Array } = { creator: EMPTY, nonce: EMPTY };
      readFields(signatureHeaderBytes, (r) => {
        if (r.field === 1) fields.creator = r.bytes();
        else if (r.field === 2) fields.nonce = r.bytes();
        else r.skip();
      });
      return fields;
    },
    peer.TxValidationCode.BAD_COMMON_HEADER,
  );
  // Messages as core/endorser/msgvalidation.go words them: the gateway passes them to clients.
  if (ch.type !== common.HeaderType.ENDORSER_TRANSACTION) {
    throw new MalformedError(`invalid header type ${headerTypeName(ch.type)}`, peer.TxValidationCode.UNKNOWN_TX_TYPE);
  }
  const { creator, nonce } = sh;
  if (nonce.length === 0) throw new MalformedError('nonce is empty', peer.TxValidationCode.BAD_COMMON_HEADER);
  if (creator.length === 0) throw new MalformedError('creator is empty', peer.TxValidationCode.BAD_COMMON_HEADER);
  const txId = ch.txId;
  const expectedTxId = computeTxId(nonce, creator);
  if (txId !== expectedTxId) {
    throw new MalformedError(`incorrectly computed txid '${txId}' -- expected '${expectedTxId}'`, peer.TxValidationCode.BAD_PROPOSAL_TXID);
  }
  const timestamp = new Date(ch.seconds * 1000 + Math.floor(ch.nanos / 1e6));
  return { txId, channelId: ch.channelId, timestamp, creator, nonce, channelHeaderBytes, signatureHeaderBytes };
}

const EMPTY: Uint8Array = new Uint8Array(0);

/** The bytes of the last occurrence of each field number asked for (others skipped). */
function lastBytes(bytes: Uint8Array, fields: readonly number[]): (Uint8Array | undefined)[] {
  const found: (Uint8Array | undefined)[] = fields.map(() => undefined);
  readFields(bytes, (r) => {
    const i = fields.indexOf(r.field);
    if (i < 0) r.skip();
    else found[i] = r.bytes();
  });
  return found;
}

/** The chaincode name and arguments of a ChaincodeInvocationSpec (peer/chaincode.proto). */
function readInvocation(bytes: Uint8Array): { chaincodeName: string; args: Buffer[] } {
  const [spec] = lastBytes(bytes, [1]);
  // ChaincodeSpec: chaincode_id (2: ChaincodeID, name is 2), input (3: ChaincodeInput, args is 1).
  const [chaincodeId, input] = lastBytes(must(spec, 'chaincode spec'), [2, 3]);
  const [name] = lastBytes(must(chaincodeId, 'chaincode id'), [2]);
  const args: Buffer[] = [];
  if (input !== undefined) {
    readFields(input, (r) => {
      if (r.field !== 1) return r.skip();
      const arg = r.bytes();
      args.push(Buffer.from(arg));
    });
  }
  return { chaincodeName: name === undefined ? '' : Buffer.from(name).toString('utf8'), args };
}

export function decodeProposal(signed: peer.SignedProposal): DecodedProposal {
  const proposalBytes = signed.getProposalBytes_asU8();
  // Proposal: header (1), payload (2); Header: channel_header (1), signature_header (2).
  const [headerBytes, payloadBytes] = parse('proposal', () => lastBytes(proposalBytes, [1, 2]));
  const [channelHeaderBytes, signatureHeaderBytes] = parse('header', () => lastBytes(headerBytes ?? EMPTY, [1, 2]));
  const decodedHeader = decodeHeader(channelHeaderBytes ?? EMPTY, signatureHeaderBytes ?? EMPTY);
  // ChaincodeProposalPayload: input (1), TransientMap (2: map<string, bytes>, last key wins).
  const transient = new Map<string, Buffer>();
  const inputBytes = parse('proposal payload', () => {
    let input: Uint8Array = EMPTY;
    readFields(payloadBytes ?? EMPTY, (r) => {
      if (r.field === 1) input = r.bytes();
      else if (r.field === 2) {
        const [key, value] = lastBytes(r.bytes(), [1, 2]);
        transient.set(key === undefined ? '' : Buffer.from(key).toString('utf8'), Buffer.from(value ?? EMPTY));
      } else r.skip();
    });
    return input;
  });
  const { chaincodeName, args } = parse('invocation spec', () => readInvocation(inputBytes));
  return {
    ...decodedHeader,
    proposalBytes,
    signature: signed.getSignature_asU8(),
    chaincodeName,
    args,
    transient,
    // ChaincodeProposalPayload with its input (field 1) only.
    visiblePayloadBytes: new ProtoWriter().bytes(1, inputBytes).finish(),
  };
}

export interface Endorsed {
  status: number;
  message: string;
  payload: Uint8Array;
  results: Uint8Array; // TxReadWriteSet
  event?: { name: string; payload: Uint8Array };
}

/** Builds the unsigned transaction envelope for an endorsed proposal, as a Fabric gateway does;
 * the endorsers sign concurrently. */
export async function buildTransactionEnvelope(
  proposal: DecodedProposal,
  endorsed: Endorsed,
  endorsers: readonly { identity: Uint8Array; signAsync: (message: Uint8Array) => Promise<Uint8Array> }[],
): Promise<{ envelope: common.Envelope; transaction: UnsignedTransaction }> {
  // Field numbers from Fabric's protos (peer/proposal.proto, proposal_response.proto,
  // chaincode_event.proto, transaction.proto, common/common.proto); see protoWriter.ts.
  const response = new ProtoWriter().varint(1, endorsed.status).string(2, endorsed.message).bytes(3, endorsed.payload).finish();
  const action = new ProtoWriter().bytes(1, endorsed.results);
  if (endorsed.event !== undefined) {
    action.bytes(
      2,
      new ProtoWriter().string(1, proposal.chaincodeName).string(2, proposal.txId).string(3, endorsed.event.name).bytes(4, endorsed.event.payload).finish(),
    );
  }
  action.message(3, response).message(4, new ProtoWriter().string(2, proposal.chaincodeName).finish());
  const proposalHash = hash('sha256', Buffer.concat([proposal.channelHeaderBytes, proposal.signatureHeaderBytes, proposal.visiblePayloadBytes]), 'buffer');
  const prpBytes = new ProtoWriter().bytes(1, proposalHash).bytes(2, action.finish()).finish();
  const signed = await Promise.all(
    endorsers.map(async (endorser) => ({ endorser: endorser.identity, signature: await endorser.signAsync(Buffer.concat([prpBytes, endorser.identity])) })),
  );

  const endorsedAction = new ProtoWriter().bytes(1, prpBytes);
  for (const e of signed) endorsedAction.message(2, new ProtoWriter().bytes(1, e.endorser).bytes(2, e.signature).finish());
  const actionPayload = new ProtoWriter().bytes(1, proposal.visiblePayloadBytes).message(2, endorsedAction.finish()).finish();
  const txAction = new ProtoWriter().bytes(1, proposal.signatureHeaderBytes).bytes(2, actionPayload).finish();
  const transaction = new ProtoWriter().message(1, txAction).finish();
  const header = new ProtoWriter().bytes(1, proposal.channelHeaderBytes).bytes(2, proposal.signatureHeaderBytes).finish();
  const payloadBytes = new ProtoWriter().message(1, header).bytes(2, transaction).finish();
  const envelope = new common.Envelope();
  envelope.setPayload(payloadBytes);
  const { txId, channelId, timestamp, creator, nonce, channelHeaderBytes, signatureHeaderBytes } = proposal;
  return {
    envelope,
    transaction: {
      txId,
      channelId,
      timestamp,
      creator,
      nonce,
      channelHeaderBytes,
      signatureHeaderBytes,
      payloadBytes,
      chaincodeName: proposal.chaincodeName,
      proposalResponsePayload: prpBytes,
      endorsements: signed,
      results: endorsed.results,
      response: { status: endorsed.status, message: endorsed.message, payload: endorsed.payload },
      ...(endorsed.event === undefined ? {} : { event: { chaincode: proposal.chaincodeName, name: endorsed.event.name, payload: endorsed.event.payload } }),
    },
  };
}

/** A transaction envelope's contents, as validation reads them. */
export interface DecodedTransaction extends TxHeader {
  payloadBytes: Uint8Array;
  /** The client's signature over payloadBytes. */
  signature: Uint8Array;
  chaincodeName: string;
  proposalResponsePayload: Uint8Array;
  endorsements: { endorser: Uint8Array; signature: Uint8Array }[];
  results: Uint8Array;
  response: { status: number; message: string; payload: Uint8Array };
  event?: { chaincode: string; name: string; payload: Uint8Array };
}

/** What the peer knows of an envelope it built at endorsement, before the client signs it. */
export type UnsignedTransaction = Omit<DecodedTransaction, 'signature'>;

/** Reads a submitted envelope; throws MalformedError carrying the validation code to record. */
export function decodeTransactionEnvelope(envelopeBytes: Uint8Array): DecodedTransaction {
  const envelope = parse('envelope', () => common.Envelope.deserializeBinary(envelopeBytes), peer.TxValidationCode.NIL_ENVELOPE);
  const payloadBytes = envelope.getPayload_asU8();
  const payload = parse('payload', () => common.Payload.deserializeBinary(payloadBytes));
  const header = must(payload.getHeader(), 'payload header');
  const decodedHeader = decodeHeader(header.getChannelHeader_asU8(), header.getSignatureHeader_asU8());
  const transaction = parse('transaction', () => peer.Transaction.deserializeBinary(payload.getData_asU8()));
  const actions = transaction.getActionsList();
  if (actions.length !== 1) throw new MalformedError('expected one transaction action', peer.TxValidationCode.NIL_TXACTION);
  const actionPayload = parse('action payload', () => peer.ChaincodeActionPayload.deserializeBinary(actions[0]!.getPayload_asU8()));
  const endorsedAction = must(actionPayload.getAction(), 'endorsed action');
  const prpBytes = endorsedAction.getProposalResponsePayload_asU8();
  const prp = parse('proposal response payload', () => peer.ProposalResponsePayload.deserializeBinary(prpBytes), peer.TxValidationCode.BAD_RESPONSE_PAYLOAD);
  const action = parse('chaincode action', () => peer.ChaincodeAction.deserializeBinary(prp.getExtension_asU8()), peer.TxValidationCode.BAD_RESPONSE_PAYLOAD);
  const response = must(action.getResponse(), 'chaincode response');
  const eventBytes = action.getEvents_asU8();
  const event = eventBytes.length === 0 ? undefined : parse('chaincode event', () => peer.ChaincodeEvent.deserializeBinary(eventBytes));
  return {
    ...decodedHeader,
    payloadBytes,
    signature: envelope.getSignature_asU8(),
    chaincodeName: action.getChaincodeId()?.getName() ?? '',
    proposalResponsePayload: prpBytes,
    endorsements: endorsedAction.getEndorsementsList().map((e) => ({ endorser: e.getEndorser_asU8(), signature: e.getSignature_asU8() })),
    results: action.getResults_asU8(),
    response: { status: response.getStatus(), message: response.getMessage(), payload: response.getPayload_asU8() },
    ...(event === undefined ? {} : { event: { chaincode: event.getChaincodeId(), name: event.getEventName(), payload: event.getPayload_asU8() } }),
  };
}
