import { common, ledger, msp, peer } from '@hyperledger/fabric-protos';
import { LedgerflowError } from '../../core/errors';
import type { CommittedTransaction } from '../../ports/ledger';

/**
 * Reads what Fabric's query system chaincode returns for one transaction: the
 * ProcessedTransaction of GetTransactionByID (its envelope and validation code) and the block
 * of GetBlockByTxID (its number), decoded down to the read/write set's writes, as any Fabric
 * client would. The two answers must agree (the block holds the transaction with that code).
 */
export function decodeCommittedTransaction(txId: string, processedBytes: Uint8Array, blockBytes: Uint8Array): CommittedTransaction {
  return malformedAs(txId, () => {
    const processed = peer.ProcessedTransaction.deserializeBinary(processedBytes);
    const envelope = processed.getTransactionenvelope();
    if (envelope === undefined) throw new Error('no envelope');
    const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
    const header = payload.getHeader();
    if (header === undefined) throw new Error('no header');
    const channelHeader = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
    if (channelHeader.getTxId() !== txId) throw new Error('another transaction id');
    const creator = common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8()).getCreator_asU8();
    const ts = channelHeader.getTimestamp();
    const block = common.Block.deserializeBinary(blockBytes);
    const blockNumber = block.getHeader()?.getNumber() ?? -1;
    const index = (block.getData()?.getDataList_asU8() ?? []).findIndex((e) => envelopeTxId(e) === txId);
    const filter = block.getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER] ?? new Uint8Array(0);
    if (index < 0 || filter[index] !== processed.getValidationcode()) throw new Error(`block ${blockNumber} does not hold it with that validation code`);
    return {
      txId,
      blockNumber,
      validationCode: processed.getValidationcode(),
      timestamp: new Date(ts === undefined ? 0 : ts.getSeconds() * 1000 + Math.floor(ts.getNanos() / 1e6)).toISOString(),
      creatorMspId: msp.SerializedIdentity.deserializeBinary(creator).getMspid(),
      writes: channelHeader.getType() === common.HeaderType.ENDORSER_TRANSACTION ? writesOf(payload.getData_asU8()) : [],
    };
  });
}

function envelopeTxId(envelopeBytes: Uint8Array): string | undefined {
  try {
    const header = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(envelopeBytes).getPayload_asU8()).getHeader();
    return header === undefined ? undefined : common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8()).getTxId();
  } catch {
    return undefined;
  }
}

function writesOf(transactionBytes: Uint8Array): CommittedTransaction['writes'] {
  const writes: CommittedTransaction['writes'] = [];
  for (const action of peer.Transaction.deserializeBinary(transactionBytes).getActionsList()) {
    const endorsed = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8()).getAction();
    if (endorsed === undefined) continue;
    const response = peer.ProposalResponsePayload.deserializeBinary(endorsed.getProposalResponsePayload_asU8());
    const results = peer.ChaincodeAction.deserializeBinary(response.getExtension_asU8()).getResults_asU8();
    for (const ns of ledger.rwset.TxReadWriteSet.deserializeBinary(results).getNsRwsetList()) {
      for (const w of ledger.rwset.kvrwset.KVRWSet.deserializeBinary(ns.getRwset_asU8()).getWritesList()) {
        writes.push({ namespace: ns.getNamespace(), key: w.getKey(), isDelete: w.getIsDelete(), value: w.getValue_asU8() });
      }
    }
  }
  return writes;
}

function malformedAs<T>(txId: string, decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    throw new LedgerflowError('internal', `the ledger's answer for transaction ${txId} does not decode: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}
