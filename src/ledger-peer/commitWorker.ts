import { parentPort, workerData } from 'node:worker_threads';
import { LedgerStore, type BlockRecord } from './store';

/**
 * Writes blocks on its own thread, so the fsync of one block never stalls endorsement of
 * the next. Blocks arrive in order; one that does not extend the last written block is
 * refused, so a failed write can never leave a gap in the chain.
 */
export interface CommitRequest {
  record: BlockRecord;
}
export interface CommitReply {
  number: number;
  error?: string;
}

const port = parentPort!;
const store = new LedgerStore((workerData as { file: string }).file);
let last = store.lastBlock()?.number ?? -1;
let failed: string | undefined;

port.on('message', ({ record }: CommitRequest) => {
  const reply = (msg: CommitReply) => port.postMessage(msg);
  if (failed !== undefined) return reply({ number: record.number, error: `an earlier block failed: ${failed}` });
  if (record.number !== last + 1) return reply({ number: record.number, error: `block ${record.number} does not follow ${last}` });
  try {
    store.commitBlock(fromClone(record));
    last = record.number;
    reply({ number: record.number });
  } catch (err) {
    failed = err instanceof Error ? err.message : String(err);
    reply({ number: record.number, error: failed });
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
    })),
  };
}
