import { parentPort, workerData } from 'node:worker_threads';
import { isDiskFull } from '../core/errors';
import { LedgerStore, type BlockRecord } from './store';

/**
 * Writes blocks on its own thread, so the fsync of one block never stalls endorsement of
 * the next. Blocks arrive in order; one that does not extend the last written block is
 * refused, so a failed write can never leave a gap in the chain. A write refused for want
 * of space leaves the chain as it was and the worker ready for the orderer's next block.
 */
export interface CommitRequest {
  record: BlockRecord;
  /** Echoed in the reply: the orderer ignores replies for blocks it has discarded. */
  generation: number;
}
export interface CommitReply {
  number: number;
  generation: number;
  error?: string;
  /** The write failed for want of space: nothing was written, a later write may succeed. */
  diskFull?: boolean;
}

const port = parentPort!;
const store = new LedgerStore((workerData as { file: string }).file);
let last = store.lastBlock()?.number ?? -1;
let failed: string | undefined;

port.on('message', ({ record, generation }: CommitRequest) => {
  const reply = (msg: Omit<CommitReply, 'number' | 'generation'>) => port.postMessage({ number: record.number, generation, ...msg } satisfies CommitReply);
  if (failed !== undefined) return reply({ error: `an earlier block failed: ${failed}` });
  if (record.number !== last + 1) return reply({ error: `block ${record.number} does not follow ${last}` });
  try {
    store.commitBlock(fromClone(record));
    last = record.number;
    reply({});
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // The block's transaction rolled back whole: the chain still ends at `last`, so a full
    // disk is not fatal; any other failure is (the store may be damaged).
    if (isDiskFull(err)) return reply({ error: message, diskFull: true });
    failed = message;
    reply({ error: failed });
  }
});

/** Structured clone turns Buffers into Uint8Arrays; SQLite binds BLOBs from Buffers. */
function fromClone(record: BlockRecord): BlockRecord {
  const buf = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
  return {
    ...record,
    headerHash: buf(record.headerHash),
    txs: record.txs.map((tx) => ({
      ...tx,
      writes: tx.writes.map((w) => ({ ...w, value: w.value === null ? null : buf(w.value) })),
      ...(tx.metadataWrites === undefined ? {} : { metadataWrites: tx.metadataWrites.map((m) => ({ ...m, value: m.value === null ? null : buf(m.value) })) }),
    })),
  };
}
