import { common, peer } from '@hyperledger/fabric-protos';
import { blockEnvelopes } from './blocks';
import type { LedgerStore } from './store';
import type { Chaincode, SimulationInput, SimulationResult } from './simulator/types';

/**
 * Fabric's query system chaincode (`qscc`, core/scc/qscc/query.go) over the embedded ledger,
 * so one client reads blocks and transactions the same way from a Fabric peer and from this
 * one: `Evaluate` of `qscc` with arguments [function, channel, argument], answered with the
 * marshalled proto (GetChainInfo: common.BlockchainInfo; GetBlockByNumber, GetBlockByTxID:
 * common.Block; GetTransactionByID: peer.ProcessedTransaction). Errors are chaincode errors
 * (status 500) with Fabric's messages. Access is the channel's readers' (every member), which
 * the gateway has checked from the proposal's signature before this runs. GetBlockByHash is
 * not served: arguments reach chaincode here as UTF-8 text, and no client of ours needs it.
 */
export const QSCC = 'qscc';

export function queryChaincode(channel: string, store: LedgerStore): Chaincode {
  return { name: QSCC, simulate: async (input) => answer(channel, store, input) };
}

function answer(channel: string, store: LedgerStore, input: SimulationInput): SimulationResult {
  const [cid, arg] = input.args;
  if (cid === undefined) return error(`Incorrect number of arguments, ${input.args.length + 1}`);
  if (input.fn !== 'GetChainInfo' && arg === undefined) return error(`missing 3rd argument for ${input.fn}`);
  if (cid !== channel) return error(`Invalid chain ID, ${cid}`);
  switch (input.fn) {
    case 'GetChainInfo':
      return ok(chainInfo(store).serializeBinary());
    case 'GetBlockByNumber': {
      if (!/^\d+$/.test(arg!)) return error(`Failed to parse block number with error strconv.ParseUint: parsing "${arg}": invalid syntax`);
      if (BigInt(arg!) > MAX_UINT64) return error(`Failed to parse block number with error strconv.ParseUint: parsing "${arg}": value out of range`);
      const number = Number(arg);
      const block = Number.isSafeInteger(number) ? store.block(number) : undefined;
      return block === undefined ? error(`Failed to get block number ${BigInt(arg!)}, error no such block number [${BigInt(arg!)}] in index`) : ok(block.bytes);
    }
    case 'GetBlockByTxID': {
      const found = locate(store, arg!);
      return found === undefined ? error(`Failed to get block for txID ${arg}, error ${noSuchTx(arg!)}`) : ok(found.blockBytes);
    }
    case 'GetTransactionByID': {
      const found = locate(store, arg!);
      if (found === undefined) return error(`Failed to get transaction with id ${arg}, error ${noSuchTx(arg!)}`);
      const processed = new peer.ProcessedTransaction();
      processed.setTransactionenvelope(common.Envelope.deserializeBinary(found.envelope));
      processed.setValidationcode(found.code);
      return ok(processed.serializeBinary());
    }
    default:
      return error(`Requested function ${input.fn} not found.`);
  }
}

function chainInfo(store: LedgerStore): common.BlockchainInfo {
  const info = new common.BlockchainInfo();
  const last = store.lastBlock();
  if (last === undefined) return info;
  info.setHeight(last.number + 1);
  info.setCurrentblockhash(last.headerHash);
  const stored = store.block(last.number);
  if (stored !== undefined) info.setPreviousblockhash(common.Block.deserializeBinary(stored.bytes).getHeader()?.getPreviousHash_asU8() ?? new Uint8Array(0));
  return info;
}

/** The committed block holding the transaction, its envelope there and its validation code. */
function locate(store: LedgerStore, txId: string): { blockBytes: Uint8Array; envelope: Uint8Array; code: number } | undefined {
  const status = store.txStatus(txId);
  const stored = status === undefined ? undefined : store.block(status.blockNum);
  if (status === undefined || stored === undefined) return undefined;
  const envelope = blockEnvelopes(stored.bytes)[status.txNum];
  return envelope === undefined ? undefined : { blockBytes: stored.bytes, envelope, code: status.code };
}

const MAX_UINT64 = 2n ** 64n - 1n;
const noSuchTx = (txId: string) => `no such transaction ID [${txId}] in index`;

const ok = (payload: Uint8Array): SimulationResult => ({
  status: 200,
  message: '',
  payload: Buffer.from(payload),
  rwset: { reads: [], rangeReads: [], writes: [] },
});

const error = (message: string): SimulationResult => ({
  status: 500,
  message,
  payload: Buffer.alloc(0),
  rwset: { reads: [], rangeReads: [], writes: [] },
});
