import { common, peer } from '@hyperledger/fabric-protos';
import { transactionsFilter } from './blocks';

/**
 * What a block says to event listeners, read from the block itself as a Fabric peer reads it:
 * each transaction's id, header type, validation code and chaincode events (core/peer
 * deliverevents.go for filtered blocks, internal/pkg/gateway/event for chaincode events).
 * Events are never taken from a copy kept beside the chain, so what clients are served is
 * what the hash chain covers.
 */

export interface BlockTransaction {
  txNum: number;
  txId: string;
  channelId: string;
  type: number;
  code: number;
  /** The chaincode events of its actions; undefined when its data does not decode (such a
   * transaction is recorded invalid). */
  events: peer.ChaincodeEvent[] | undefined;
}

export function blockTransactions(block: common.Block): BlockTransaction[] {
  const codes = transactionsFilter(block);
  const out: BlockTransaction[] = [];
  block
    .getData()
    ?.getDataList_asU8()
    .forEach((bytes, txNum) => {
      let payload: common.Payload;
      let channelHeader: common.ChannelHeader;
      try {
        payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(bytes).getPayload_asU8());
        channelHeader = common.ChannelHeader.deserializeBinary(payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array(0));
      } catch {
        return; // Fabric skips an envelope it cannot read
      }
      const type = channelHeader.getType();
      const code = codes[txNum] ?? peer.TxValidationCode.INVALID_OTHER_REASON;
      const events = type === common.HeaderType.ENDORSER_TRANSACTION ? actionEvents(payload) : [];
      out.push({ txNum, txId: channelHeader.getTxId(), channelId: channelHeader.getChannelId(), type, code, events });
    });
  return out;
}

function actionEvents(payload: common.Payload): peer.ChaincodeEvent[] | undefined {
  try {
    const events: peer.ChaincodeEvent[] = [];
    for (const action of peer.Transaction.deserializeBinary(payload.getData_asU8()).getActionsList()) {
      const endorsed = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8()).getAction();
      if (endorsed === undefined) continue;
      const prp = peer.ProposalResponsePayload.deserializeBinary(endorsed.getProposalResponsePayload_asU8());
      const eventBytes = peer.ChaincodeAction.deserializeBinary(prp.getExtension_asU8()).getEvents_asU8();
      const event = peer.ChaincodeEvent.deserializeBinary(eventBytes);
      if (event.getChaincodeId() !== '') events.push(event);
    }
    return events;
  } catch {
    return undefined;
  }
}

/** A filtered block (peer.FilteredBlock): per transaction its id, type and validation code,
 * and for endorser transactions their chaincode events without payloads. */
export function filteredBlock(block: common.Block): peer.FilteredBlock {
  const filtered = new peer.FilteredBlock();
  filtered.setNumber(block.getHeader()?.getNumber() ?? 0);
  const txs = blockTransactions(block);
  const list = txs.map((tx) => {
    const ft = new peer.FilteredTransaction();
    ft.setTxid(tx.txId);
    ft.setType(tx.type as common.HeaderTypeMap[keyof common.HeaderTypeMap]);
    ft.setTxValidationCode(tx.code as peer.TxValidationCodeMap[keyof peer.TxValidationCodeMap]);
    if (tx.type === common.HeaderType.ENDORSER_TRANSACTION) {
      const actions = new peer.FilteredTransactionActions();
      actions.setChaincodeActionsList(
        (tx.events ?? []).map((e) => {
          const event = new peer.ChaincodeEvent();
          event.setTxId(e.getTxId());
          event.setChaincodeId(e.getChaincodeId());
          event.setEventName(e.getEventName());
          const action = new peer.FilteredChaincodeAction();
          action.setChaincodeEvent(event);
          return action;
        }),
      );
      ft.setTransactionActions(actions);
    }
    return ft;
  });
  // Fabric takes the channel from the transactions' headers (none: empty).
  filtered.setChannelId(txs.at(-1)?.channelId ?? '');
  filtered.setFilteredTransactionsList(list);
  return filtered;
}

/** The chaincode events of a block's VALID transactions from `chaincode`, in block order. */
export function validChaincodeEvents(block: common.Block, chaincode: string): { txNum: number; event: peer.ChaincodeEvent }[] {
  return blockTransactions(block)
    .filter((tx) => tx.code === peer.TxValidationCode.VALID && tx.type === common.HeaderType.ENDORSER_TRANSACTION)
    .flatMap((tx) => (tx.events ?? []).filter((e) => e.getChaincodeId() === chaincode).map((event) => ({ txNum: tx.txNum, event })));
}
