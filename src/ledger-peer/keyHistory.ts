import { blockEnvelopes } from './blocks';
import { decodeRwset, type NamespacedRwset } from './rwset';
import { decodeTransactionEnvelope } from './transaction';

/**
 * Key history values read from the blocks, as a Fabric peer's history database serves them
 * (core/ledger/kvledger/history/query_executer.go): the history index records only where a
 * key was written (block, transaction), and the value is that transaction's write of the key
 * in the block store. Decoded blocks are kept for a few blocks, since the entries of one
 * history page often share a block (group commit).
 */
export class BlockWrites {
  /** blockNum -> its envelopes and the write sets decoded so far (txNum -> rwsets). */
  readonly #blocks = new Map<number, { envelopes: Uint8Array[]; rwsets: Map<number, NamespacedRwset[]> }>();

  constructor(
    private readonly blockBytes: (blockNum: number) => Uint8Array | undefined,
    private readonly capacity = 8,
  ) {}

  /** What transaction (blockNum, txNum) wrote to ns/key: its value, or null for a delete.
   * Throws when the transaction did not write the key (the index and the blocks disagree). */
  write(blockNum: number, txNum: number, ns: string, key: string): Buffer | null {
    const where = `block ${blockNum} transaction ${txNum}`;
    let block = this.#blocks.get(blockNum);
    if (block === undefined) {
      const bytes = this.blockBytes(blockNum);
      if (bytes === undefined) throw new Error(`key history points at ${where}, which is not in the block store`);
      block = { envelopes: blockEnvelopes(bytes), rwsets: new Map() };
      if (this.#blocks.size >= this.capacity) this.#blocks.delete(this.#blocks.keys().next().value!);
      this.#blocks.set(blockNum, block);
    }
    let rwsets = block.rwsets.get(txNum);
    if (rwsets === undefined) {
      const envelope = block.envelopes[txNum];
      if (envelope === undefined) throw new Error(`key history points at ${where}, which is not in the block`);
      rwsets = decodeRwset(decodeTransactionEnvelope(envelope).results);
      block.rwsets.set(txNum, rwsets);
    }
    const written = rwsets.find((r) => r.namespace === ns)?.rwset.writes.find((w) => w.key === key);
    if (written === undefined) throw new Error(`key history points at ${where}, which does not write ${ns}/${JSON.stringify(key)}`);
    return written.value;
  }
}
