import { createHash } from 'node:crypto';
import { common } from '@hyperledger/fabric-protos';

/**
 * Blocks as Fabric builds them: header {number, previous_hash, data_hash}, data = the
 * transaction envelopes, and metadata whose TRANSACTIONS_FILTER entry holds one validation
 * code per transaction. Hashes are Fabric's, so the chain can be checked with Fabric tools.
 */

/** sha256 over the concatenated envelopes (Fabric's BlockDataHash). */
export function blockDataHash(envelopes: readonly Uint8Array[]): Buffer {
  const hash = createHash('sha256');
  for (const e of envelopes) hash.update(e);
  return hash.digest();
}

/** sha256 over the ASN.1 DER of SEQUENCE {INTEGER number, OCTET STRING previousHash,
 * OCTET STRING dataHash}, as Fabric's BlockHeaderHash computes it. Three fields do not
 * justify an ASN.1 library. */
export function blockHeaderHash(number: number, previousHash: Uint8Array, dataHash: Uint8Array): Buffer {
  const body = Buffer.concat([derInteger(BigInt(number)), derTlv(0x04, previousHash), derTlv(0x04, dataHash)]);
  return createHash('sha256').update(derTlv(0x30, body)).digest();
}

function derInteger(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return derTlv(0x02, bytes);
}

function derTlv(tag: number, content: Uint8Array): Buffer {
  const len = content.length;
  let header: Buffer;
  if (len < 0x80) header = Buffer.from([tag, len]);
  else {
    const lenBytes: number[] = [];
    for (let l = len; l > 0; l >>= 8) lenBytes.unshift(l & 0xff);
    header = Buffer.from([tag, 0x80 | lenBytes.length, ...lenBytes]);
  }
  return Buffer.concat([header, content]);
}

const METADATA_ENTRIES = 5; // SIGNATURES, LAST_CONFIG, TRANSACTIONS_FILTER, ORDERER, COMMIT_HASH

/** `lastConfig`: the number of the newest config block (this one, for a config block), kept
 * in the LAST_CONFIG metadata entry as Fabric does; absent on a channel without a config. */
export function buildBlock(
  number: number,
  previousHash: Uint8Array,
  envelopes: Uint8Array[],
  codes: number[],
  lastConfig?: number,
): { block: common.Block; headerHash: Buffer } {
  const dataHash = blockDataHash(envelopes);
  const header = new common.BlockHeader();
  header.setNumber(number);
  header.setPreviousHash(previousHash);
  header.setDataHash(dataHash);
  const data = new common.BlockData();
  data.setDataList(envelopes);
  const metadata = new common.BlockMetadata();
  const entries: Uint8Array[] = Array.from({ length: METADATA_ENTRIES }, () => new Uint8Array(0));
  entries[common.BlockMetadataIndex.TRANSACTIONS_FILTER] = Uint8Array.from(codes);
  if (lastConfig !== undefined) {
    const index = new common.LastConfig();
    index.setIndex(lastConfig);
    const entry = new common.Metadata();
    entry.setValue(index.serializeBinary());
    entries[common.BlockMetadataIndex.LAST_CONFIG] = entry.serializeBinary();
  }
  metadata.setMetadataList(entries);
  const block = new common.Block();
  block.setHeader(header);
  block.setData(data);
  block.setMetadata(metadata);
  return { block, headerHash: blockHeaderHash(number, previousHash, dataHash) };
}

export function transactionsFilter(block: common.Block): Uint8Array {
  return block.getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.TRANSACTIONS_FILTER] ?? new Uint8Array(0);
}

/** The transaction envelopes of a stored block, in order: what Fabric's block store retrieves a
 * transaction from by (blockNum, tranNum). */
export function blockEnvelopes(blockBytes: Uint8Array): Uint8Array[] {
  return common.Block.deserializeBinary(blockBytes).getData()?.getDataList_asU8() ?? [];
}

/** The LAST_CONFIG index of a stored block; undefined for a block of a channel that had no
 * configuration then. */
export function lastConfigIndex(blockBytes: Uint8Array): number | undefined {
  const entry = common.Block.deserializeBinary(blockBytes).getMetadata()?.getMetadataList_asU8()[common.BlockMetadataIndex.LAST_CONFIG];
  if (entry === undefined || entry.length === 0) return undefined;
  return common.LastConfig.deserializeBinary(common.Metadata.deserializeBinary(entry).getValue_asU8()).getIndex();
}
