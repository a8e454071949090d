import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { isDiskFull } from '../core/errors';
import { DurableStore, type Lease, type WriteBatch } from './store';

/**
 * The durable store's writer thread (groupCommit.ts drives it): it commits the engine's
 * transactions in the order they arrive, each with its fsync, so the fsync never stalls
 * the scheduler's thread. Replies go back on their own port, which the scheduler can also
 * read synchronously when it shuts down; `signal` counts the replies sent, so it can sleep
 * until the next one.
 */
export type WriterRequest = { kind: 'commit'; seq: number; batches: WriteBatch[]; lease: Lease } | { kind: 'close' };

export type WriterReply =
  | { kind: 'committed'; seq: number; ms: number }
  | { kind: 'failed'; seq: number; message: string; code: string | undefined; diskFull: boolean }
  | { kind: 'closed' };

export interface WriterData {
  file: string;
  replies: MessagePort;
  signal: SharedArrayBuffer;
}

const { file, replies, signal } = workerData as WriterData;
const sent = new Int32Array(signal);
const store = new DurableStore(file);

function reply(msg: WriterReply): void {
  replies.postMessage(msg);
  Atomics.add(sent, 0, 1);
  Atomics.notify(sent, 0);
}

(parentPort as MessagePort).on('message', (req: WriterRequest) => {
  if (req.kind === 'close') {
    store.close();
    reply({ kind: 'closed' });
    replies.close();
    (parentPort as MessagePort).close();
    return;
  }
  const t0 = performance.now();
  try {
    store.commit(req.batches, req.lease);
    reply({ kind: 'committed', seq: req.seq, ms: performance.now() - t0 });
  } catch (err) {
    // The transaction rolled back whole; the scheduler decides (retry on a full disk, else fatal).
    const code = (err as { code?: unknown }).code;
    reply({
      kind: 'failed',
      seq: req.seq,
      message: err instanceof Error ? err.message : String(err),
      code: typeof code === 'string' ? code : undefined,
      diskFull: isDiskFull(err),
    });
  }
});
