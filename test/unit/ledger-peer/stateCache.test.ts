import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { LedgerStore, type BlockRecord, type CommittedTx } from '../../../src/ledger-peer/store';

// The peer's reading connection keeps recently used keys in memory (stateCache.ts), applied
// from each block once the commit worker has written it. Whatever the blocks do, and whenever
// the reader reads (before, between or after the blocks it has not applied yet), what it
// answers once every block is applied must be what SQLite holds.

const NS = ['ledgerflow', 'other'];
const KEYS = ['a', '\u0000lease\u0000d1\u0000', '\u0000audit\u0000d1\u00001\u0000', 'b\u0000', 'é'];

const write = fc.record({
  ns: fc.constantFrom(...NS),
  key: fc.constantFrom(...KEYS),
  value: fc.option(
    fc.uint8Array({ minLength: 1, maxLength: 12 }).map((b) => Buffer.from(b)),
    { nil: null },
  ),
});
const txArb = fc.record({
  valid: fc.boolean(),
  writes: fc.array(write, { maxLength: 3 }),
  metadataWrites: fc.array(write, { maxLength: 2 }),
});
const reads = fc.array(fc.record({ ns: fc.constantFrom(...NS), key: fc.constantFrom(...KEYS) }), { maxLength: 4 });
// Each block: its transactions, the reads made before it is applied, how many more blocks
// the writer has made durable by then (the reader may lag it), and whether the next block
// has been handed to the writer too (in flight, not yet durable).
const blocks = fc.array(fc.record({ txs: fc.array(txArb, { minLength: 1, maxLength: 3 }), readsBefore: reads, lag: fc.nat(2), inFlight: fc.boolean() }), {
  minLength: 1,
  maxLength: 8,
});

interface TxSpec {
  valid: boolean;
  writes: CommittedTx['writes'];
  metadataWrites: CommittedTx['writes'];
}

function record(number: number, txs: TxSpec[]): BlockRecord {
  return {
    number,
    headerHash: Buffer.alloc(32, number),
    bytes: Buffer.from(`block ${number}`),
    txs: txs.map((t, i) => ({
      txId: `tx-${number}-${i}`,
      code: t.valid ? 0 : 11,
      timestamp: new Date(1_700_000_000_000 + number * 1000 + i),
      // Last write per key, as the simulator leaves a write set.
      writes: [...new Map(t.writes.map((w) => [`${w.ns}/${w.key}`, w])).values()],
      metadataWrites: [...new Map(t.metadataWrites.map((w) => [`${w.ns}/${w.key}`, w])).values()],
    })),
  };
}

function readAll(store: LedgerStore, ns: string, key: string): unknown {
  const history = [...store.history(ns, key)].map((h) => ({ txId: h.txId, ts: h.timestamp.getTime(), isDelete: h.isDelete }));
  return { value: store.get(ns, key), version: store.version(ns, key), parameter: store.validationParameter(ns, key), history };
}

test('the cached reading connection answers as SQLite does once the blocks it lags are applied, however reads interleave', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledgerflow-state-cache-'));
  try {
    let run = 0;
    fc.assert(
      // `told`: the reader is told each block as it is handed to the writer, as the orderer does.
      fc.property(blocks, fc.boolean(), (spec, told) => {
        const file = join(dir, `ledger-${run++}.sqlite`);
        const writer = new LedgerStore(file);
        const cached = new LedgerStore(file, { cache: true });
        const plain = new LedgerStore(file);
        try {
          const records = spec.map((b, n) => record(n, b.txs));
          let written = 0;
          records.forEach((r, n) => {
            // The writer runs ahead of what the reader has applied, by up to `lag` blocks.
            const target = Math.min(records.length, n + 1 + spec[n]!.lag);
            for (; written < target; written++) {
              if (told) cached.writing(written);
              writer.commitBlock(records[written]!);
            }
            if (told && spec[n]!.inFlight && written < records.length) cached.writing(written);
            for (const { ns, key } of spec[n]!.readsBefore) readAll(cached, ns, key);
            cached.committed(r);
          });
          for (const ns of NS) for (const key of KEYS) assert.deepEqual(readAll(cached, ns, key), readAll(plain, ns, key), `${ns}/${JSON.stringify(key)}`);
        } finally {
          for (const s of [writer, cached, plain]) s.close();
          rmSync(file, { force: true });
          rmSync(`${file}-wal`, { force: true });
          rmSync(`${file}-shm`, { force: true });
        }
      }),
      { numRuns: 150 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the chaincode's time guard never reads a newest history entry older than the value it read", () => {
  const dir = mkdtempSync(join(tmpdir(), 'ledgerflow-state-cache-'));
  const file = join(dir, 'ledger.sqlite');
  const writer = new LedgerStore(file);
  const cached = new LedgerStore(file, { cache: true });
  try {
    const one = (n: number): BlockRecord =>
      record(n, [{ valid: true, writes: [{ ns: 'ledgerflow', key: 'k', value: Buffer.from(`v${n}`) }], metadataWrites: [] }]);
    writer.commitBlock(one(0));
    assert.equal([...cached.history('ledgerflow', 'k')][0]?.txId, 'tx-0-0', 'the newest entry, read from SQLite and kept');
    // Block 1 is durable but not yet applied: the value read now is block 1's...
    writer.commitBlock(one(1));
    assert.deepEqual(cached.get('ledgerflow', 'k')?.value, Buffer.from('v1'));
    // ...so the newest history entry cannot be block 0's any more.
    assert.equal([...cached.history('ledgerflow', 'k')][0]?.txId, 'tx-1-0');
    cached.committed(one(0));
    cached.committed(one(1));
    assert.deepEqual(cached.get('ledgerflow', 'k')?.value, Buffer.from('v1'));
    assert.deepEqual(
      [...cached.history('ledgerflow', 'k')].map((h) => h.txId),
      ['tx-1-0', 'tx-0-0'],
    );
  } finally {
    writer.close();
    cached.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
