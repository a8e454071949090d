import * as grpc from '@grpc/grpc-js';
import { common, orderer as ordererProtos, peer } from '@hyperledger/fabric-protos';
import type { Logger } from '../observability/logger';
import { applyConfigUpdate, configTransaction, decodeConfigTransaction, type IdentitySigner } from './channelConfig';
import type { ChannelState } from './channel';
import type { Orderer } from './orderer';

/**
 * The orderer's Broadcast service (`orderer.AtomicBroadcast/Broadcast`) for channel
 * configuration updates, as `peer channel update` sends them: a CONFIG_UPDATE envelope signed
 * by a channel member, carrying the admins' ConfigSignatures. The update is checked against
 * the configuration in force (channelConfig.ts: only adding organizations, signed by admins of
 * a MAJORITY of the organizations), wrapped in a CONFIG transaction signed by the orderer and
 * ordered alone in a block, where the validator checks it again. Unlike Fabric's orderer,
 * which answers once the update is enqueued, this one answers when the config block is
 * committed (SUCCESS) or refused (BAD_REQUEST / FORBIDDEN, with the reason in `info`).
 * Endorser transactions are submitted through the Gateway instead.
 */
export interface BroadcastDeps {
  channel: string;
  channelState: ChannelState;
  orderer: Orderer;
  ordererSigner: IdentitySigner;
  log: Logger;
}

export function broadcastImplementation(deps: BroadcastDeps): grpc.UntypedServiceImplementation {
  const broadcast: grpc.handleBidiStreamingCall<common.Envelope, ordererProtos.BroadcastResponse> = (call) => {
    let queue = Promise.resolve();
    call.on('data', (envelope: common.Envelope) => {
      queue = queue
        .then(() => handle(envelope))
        .then(
          (response) => {
            call.write(response);
          },
          (err: unknown) => {
            deps.log.error({ err }, 'broadcast failed');
            call.write(reply(common.Status.INTERNAL_SERVER_ERROR, 'internal error'));
          },
        );
    });
    call.on('end', () => {
      void queue.finally(() => call.end());
    });
  };

  async function handle(envelope: common.Envelope): Promise<ordererProtos.BroadcastResponse> {
    let type: number;
    let channelId: string;
    let creator: Uint8Array;
    try {
      const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
      const ch = common.ChannelHeader.deserializeBinary(payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array(0));
      creator = common.SignatureHeader.deserializeBinary(payload.getHeader()?.getSignatureHeader_asU8() ?? new Uint8Array(0)).getCreator_asU8();
      type = ch.getType();
      channelId = ch.getChannelId();
    } catch {
      return reply(common.Status.BAD_REQUEST, 'malformed envelope');
    }
    if (channelId !== deps.channel) return reply(common.Status.NOT_FOUND, `channel ${channelId} not found`);
    if (type !== common.HeaderType.CONFIG_UPDATE) {
      return reply(common.Status.BAD_REQUEST, 'this orderer accepts config updates only; submit transactions through the Gateway service');
    }
    const current = deps.channelState.config;
    if (current === undefined) return reply(common.Status.SERVICE_UNAVAILABLE, 'the channel has no configuration yet');
    // /Channel/Writers: the submitter must be a member whose signature verifies.
    const membership = deps.channelState.membership;
    const submitter = membership.verify(creator, envelope.getPayload_asU8(), envelope.getSignature_asU8());
    if (submitter instanceof Error) return reply(common.Status.FORBIDDEN, `config update not signed by a channel member: ${submitter.message}`);
    const next = applyConfigUpdate(current, envelope, (c, message, signature) => membership.verify(c, message, signature));
    if (next instanceof Error) return reply(common.Status.BAD_REQUEST, `error applying config update to existing channel '${deps.channel}': ${next.message}`);
    const configTx = configTransaction(next, envelope, deps.ordererSigner);
    const txId = decodeConfigTransaction(configTx)!.txId;
    deps.orderer.submitConfig(configTx);
    const status = await deps.orderer.waitForTx(txId);
    if (status.code !== peer.TxValidationCode.VALID) return reply(common.Status.BAD_REQUEST, `config transaction invalidated with code ${status.code}`);
    deps.log.info({ sequence: next.sequence, orgs: next.orgs.map((o) => o.mspId), blockNum: status.blockNum }, 'channel configuration updated');
    return reply(common.Status.SUCCESS, '');
  }

  return { broadcast, deliver: unimplementedDeliver };
}

const unimplementedDeliver: grpc.handleBidiStreamingCall<common.Envelope, ordererProtos.DeliverResponse> = (call) => {
  call.destroy(Object.assign(new Error('the embedded orderer serves blocks through the peer'), { code: grpc.status.UNIMPLEMENTED }));
};

function reply(status: number, info: string): ordererProtos.BroadcastResponse {
  const response = new ordererProtos.BroadcastResponse();
  response.setStatus(status as common.StatusMap[keyof common.StatusMap]);
  response.setInfo(info);
  return response;
}
