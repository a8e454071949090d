import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { common, orderer as ab, peer } from '@hyperledger/fabric-protos';
import type { Logger } from '../observability/logger';
import { filteredBlock } from './blockEvents';
import type { Membership } from './membership';
import type { Orderer } from './orderer';
import type { LedgerStore } from './store';

/**
 * The peer's Deliver service (protos.Deliver: Deliver, DeliverFiltered,
 * DeliverWithPrivateData), as a Fabric 2.5 peer serves it (common/deliver/deliver.go,
 * core/peer/deliverevents.go), so fabric-gateway's getBlockEvents, getFilteredBlockEvents
 * and getBlockAndPrivateDataEvents (with start blocks and checkpoints) work unchanged.
 *
 * Each request on the stream is a signed envelope whose payload data is an orderer.SeekInfo.
 * The peer checks the envelope (header, timestamp within the time window), the channel,
 * the SeekInfo, and that the creator is a channel member (the Readers ACL: a valid identity
 * and its signature over the payload); it then sends the blocks from start to stop (waiting
 * for blocks not yet committed unless FAIL_IF_NOT_READY), then a SUCCESS status, and reads
 * the next request. A refusal is a status response (BAD_REQUEST, NOT_FOUND, FORBIDDEN) that
 * ends the stream. The ledger holds no private data, so DeliverWithPrivateData sends each
 * block with an empty private data map.
 */

type Kind = 'block' | 'filtered' | 'private';
type Call = grpc.ServerDuplexStream<common.Envelope, peer.DeliverResponse>;
type Status = common.StatusMap[keyof common.StatusMap];

export interface DeliverDeps {
  channel: string;
  /** The channel's membership in force (config blocks replace it). */
  membership: Pick<Membership, 'verify' | 'resolve'>;
  store: LedgerStore;
  orderer: Orderer;
  log: Logger;
  /** How far an envelope's timestamp may be from this clock (peer.authentication.timewindow, default 15 min). */
  timeWindowMs?: number;
}

const TIME_WINDOW_MS = 15 * 60 * 1000;
const Status = common.Status;

export function deliverImplementation(deps: DeliverDeps): grpc.UntypedServiceImplementation {
  const handler =
    (kind: Kind): grpc.handleBidiStreamingCall<common.Envelope, peer.DeliverResponse> =>
    (call) => {
      serve(deps, kind, call).catch((err: unknown) => {
        deps.log.warn({ err }, 'deliver stream failed');
        call.destroy(err instanceof Error ? err : new Error(String(err)));
      });
    };
  return { deliver: handler('block'), deliverFiltered: handler('filtered'), deliverWithPrivateData: handler('private') };
}

async function serve(deps: DeliverDeps, kind: Kind, call: Call): Promise<void> {
  const abort = new AbortController();
  const onCancelled = () => abort.abort();
  call.once('cancelled', onCancelled);
  try {
    for await (const envelope of call as AsyncIterable<common.Envelope>) {
      const status = await deliverBlocks(deps, kind, call, envelope, abort.signal);
      if (abort.signal.aborted) return;
      call.write(statusResponse(status));
      if (status !== Status.SUCCESS) break;
    }
    call.end();
  } catch (err) {
    // A client that closes its stream (fabric-gateway's close() cancels the call) is done.
    if (!abort.signal.aborted) throw err;
  } finally {
    call.off('cancelled', onCancelled);
  }
}

async function deliverBlocks(deps: DeliverDeps, kind: Kind, call: Call, envelope: common.Envelope, signal: AbortSignal): Promise<Status> {
  const { store, orderer, membership } = deps;
  let channelHeader: common.ChannelHeader;
  let creator: Uint8Array;
  let seekInfo: ab.SeekInfo;
  try {
    const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
    const header = payload.getHeader();
    if (header === undefined) return Status.BAD_REQUEST;
    channelHeader = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
    creator = common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8()).getCreator_asU8();
    const ts = channelHeader.getTimestamp();
    if (ts === undefined) return Status.BAD_REQUEST;
    if (Math.abs(Date.now() - (ts.getSeconds() * 1000 + ts.getNanos() / 1e6)) > (deps.timeWindowMs ?? TIME_WINDOW_MS)) return Status.BAD_REQUEST;
    if (channelHeader.getChannelId() !== deps.channel) return Status.NOT_FOUND;
    seekInfo = ab.SeekInfo.deserializeBinary(payload.getData_asU8());
  } catch {
    return Status.BAD_REQUEST;
  }
  if (membership.verify(creator, envelope.getPayload_asU8(), envelope.getSignature_asU8()) instanceof Error) {
    deps.log.warn({ channel: deps.channel }, 'deliver client is not authorized');
    return Status.FORBIDDEN;
  }
  const start = seekInfo.getStart();
  const stop = seekInfo.getStop();
  if (start === undefined || stop === undefined) return Status.BAD_REQUEST;

  // Fabric's FileLedger.Iterator: a specified start past the height is NOT_FOUND.
  const height = orderer.height;
  let number: number;
  let notFound = false;
  switch (start.getTypeCase()) {
    case ab.SeekPosition.TypeCase.OLDEST:
      number = 0;
      break;
    case ab.SeekPosition.TypeCase.NEWEST:
      number = height - 1;
      break;
    case ab.SeekPosition.TypeCase.SPECIFIED:
      number = start.getSpecified()!.getNumber();
      if (number > height) [number, notFound] = [0, true];
      break;
    case ab.SeekPosition.TypeCase.NEXT_COMMIT:
      number = height;
      break;
    default:
      [number, notFound] = [0, true];
  }
  let stopNum = 0;
  switch (stop.getTypeCase()) {
    case ab.SeekPosition.TypeCase.OLDEST:
      stopNum = number;
      break;
    case ab.SeekPosition.TypeCase.NEWEST:
      // Start and stop both newest: only that block, however the ledger grows meanwhile.
      stopNum = start.getTypeCase() === ab.SeekPosition.TypeCase.NEWEST ? number : orderer.height - 1;
      break;
    case ab.SeekPosition.TypeCase.SPECIFIED:
      stopNum = stop.getSpecified()!.getNumber();
      if (stopNum < number) return Status.BAD_REQUEST;
      break;
  }
  if (notFound) return Status.NOT_FOUND;

  for (;;) {
    if (seekInfo.getBehavior() === ab.SeekInfo.SeekBehavior.FAIL_IF_NOT_READY && number > orderer.height - 1) return Status.NOT_FOUND;
    if (!(await committed(orderer, number, signal))) return Status.INTERNAL_SERVER_ERROR;
    // The session ends when the client's certificate does (SessionAccessControl).
    if (membership.resolve(creator) instanceof Error) return Status.FORBIDDEN;
    const stored = store.block(number);
    if (stored === undefined) return Status.NOT_FOUND;
    const block = common.Block.deserializeBinary(stored.bytes);
    await write(call, blockResponse(kind, block), signal);
    if (signal.aborted) return Status.INTERNAL_SERVER_ERROR;
    if (number === stopNum) return Status.SUCCESS;
    number += 1;
  }
}

/** Resolves true once block `n` is committed, false if the call ends first. */
async function committed(orderer: Orderer, n: number, signal: AbortSignal): Promise<boolean> {
  while (orderer.height <= n) {
    if (signal.aborted) return false;
    await new Promise<void>((resolve) => {
      const off = orderer.onBlock(() => done());
      const done = () => {
        off();
        signal.removeEventListener('abort', done);
        resolve();
      };
      signal.addEventListener('abort', done, { once: true });
    });
  }
  return !signal.aborted;
}

function blockResponse(kind: Kind, block: common.Block): peer.DeliverResponse {
  const response = new peer.DeliverResponse();
  if (kind === 'block') response.setBlock(block);
  else if (kind === 'filtered') response.setFilteredBlock(filteredBlock(block));
  else {
    const withPrivate = new peer.BlockAndPrivateData();
    withPrivate.setBlock(block);
    response.setBlockAndPrivateData(withPrivate);
  }
  return response;
}

function statusResponse(status: Status): peer.DeliverResponse {
  const response = new peer.DeliverResponse();
  response.setStatus(status);
  return response;
}

/** Writes with backpressure: waits for the client to drain a full buffer. */
async function write(call: Call, response: peer.DeliverResponse, signal: AbortSignal): Promise<void> {
  if (call.write(response) || signal.aborted) return;
  await Promise.race([once(call, 'drain'), once(signal, 'abort')]);
}
