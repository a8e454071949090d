import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { common } from '@hyperledger/fabric-protos';
import { blockDataHash, blockHeaderHash, transactionsFilter } from './blocks';
import { mspIdFor } from '../core/names';
import { mspRoot, PEER_ORG, peerMspRoot } from './localCa';
import { Membership } from './membership';
import { LedgerStore, type CommittedTx } from './store';
import { compareKeys } from './simulator';
import type { Version } from './simulator';
import { inRange, validateBlock, type StateView, type ValidationPolicy } from './validator';
import { ChannelState } from './channel';
import { DEFAULT_ENDORSEMENT_POLICY, parseEndorsementPolicy } from './endorsementPolicy';

/**
 * Checks a ledger end to end (also while its peer runs: it reads one snapshot): block numbering, each header's previous hash
 * and data hash, the transaction index against block order, and, by replaying every block
 * through the committer's validator into an empty state, each recorded validation code and
 * the stored world state, and that the key history index records exactly the valid writes
 * (each row's block and transaction writes or deletes that key, with that tx id and time, and
 * a value it still holds from an older ledger equals the written one), and that the events
 * table holds exactly the events of valid transactions, as their blocks carry them. Reports
 * the first bad block.
 */

export interface VerifyResult {
  ok: boolean;
  blocks: number;
  transactions: number;
  /** The first block found bad (for a world-state mismatch: the last block, where it shows). */
  badBlock?: number;
  problem?: string;
}

/** `endorsementPolicy`: the one the peer was started with (default `MAJORITY Endorsement`);
 * transactions are replayed against it. */
export function verifyLedger(dataDir: string, options: { endorsementPolicy?: string } = {}): VerifyResult {
  const file = join(dataDir, 'ledger', 'ledger.sqlite');
  if (!existsSync(file)) return { ok: false, blocks: 0, transactions: 0, problem: `no ledger at ${file}` };
  const store = new LedgerStore(file, { mustExist: true });
  try {
    // One read transaction: a consistent snapshot even while the peer keeps committing.
    store.db.exec('BEGIN');
    // A ledger's first block is its genesis config block; one written before channels had a
    // configuration was validated against the CAs of the data dir until its first config block.
    const channel = new ChannelState({ legacy: Membership.fromCaDirs([mspRoot(dataDir), peerMspRoot(dataDir)]), endorserMspId: mspIdFor(PEER_ORG) });
    const chaincodePolicy = parseEndorsementPolicy(options.endorsementPolicy ?? DEFAULT_ENDORSEMENT_POLICY);
    return verifyStore(store, { channel, chaincodePolicy: () => chaincodePolicy });
  } finally {
    if (store.db.inTransaction) store.db.exec('COMMIT');
    store.close();
  }
}

class ReplayState implements StateView {
  readonly values = new Map<string, Map<string, { value: Buffer; version: Version; validationParameter?: Buffer }>>();
  readonly txIds = new Set<string>();

  version(ns: string, key: string): Version | undefined {
    return this.values.get(ns)?.get(key)?.version;
  }

  rangeVersions(ns: string, startKey: string, endKey: string): { key: string; version: Version }[] {
    return [...(this.values.get(ns) ?? [])]
      .filter(([key]) => inRange(key, startKey, endKey))
      .sort(([a], [b]) => compareKeys(a, b))
      .map(([key, { version }]) => ({ key, version }));
  }

  hasTx(txId: string): boolean {
    return this.txIds.has(txId);
  }

  validationParameter(ns: string, key: string): Buffer | undefined {
    return this.values.get(ns)?.get(key)?.validationParameter;
  }
}

function verifyStore(store: LedgerStore, policy: ValidationPolicy): VerifyResult {
  const state = new ReplayState();
  const index = new Map<string, { blockNum: number; txNum: number; code: number }>();
  for (const tx of store.allTxs()) index.set(tx.txId, tx);
  let expected = 0;
  let previousHash: Buffer = Buffer.alloc(0);
  let transactions = 0;
  const bad = (badBlock: number, problem: string): VerifyResult => ({ ok: false, blocks: expected, transactions, badBlock, problem });

  const history = store.allHistory()[Symbol.iterator]();
  const events = store.allEvents()[Symbol.iterator]();
  try {
    let pending = history.next();
    let pendingEvent = events.next();

    for (const stored of store.allBlocks()) {
      const n = stored.number;
      if (n !== expected) return bad(expected, `block ${expected} is missing (found ${n})`);
      let block: common.Block;
      try {
        block = common.Block.deserializeBinary(stored.bytes);
      } catch {
        return bad(n, 'block bytes do not decode');
      }
      const header = block.getHeader();
      if (header === undefined || header.getNumber() !== n) return bad(n, 'header number does not match');
      if (!Buffer.from(header.getPreviousHash_asU8()).equals(previousHash)) return bad(n, 'previous hash does not match the previous block');
      const envelopes = block.getData()?.getDataList_asU8() ?? [];
      const dataHash = blockDataHash(envelopes);
      if (!dataHash.equals(Buffer.from(header.getDataHash_asU8()))) return bad(n, 'data hash does not match the transactions');
      const headerHash = blockHeaderHash(n, previousHash, dataHash);
      if (!headerHash.equals(stored.headerHash)) return bad(n, 'stored header hash does not match the header');
      const filter = transactionsFilter(block);
      if (filter.length !== envelopes.length) return bad(n, 'validation codes do not cover the transactions');

      const { codes, txs } = validateBlock(envelopes, n, state, policy);
      const written = new Map<string, { txId: string; tsMs: number; value: Buffer | null }>();
      const emitted = new Map<number, NonNullable<CommittedTx['event']> & { txId: string }>();
      for (let i = 0; i < txs.length; i++) {
        const tx = txs[i]!;
        if (codes[i] !== filter[i]) return bad(n, `transaction ${i} (${tx.txId}) recorded with code ${filter[i]}, replay gives ${codes[i]}`);
        if (tx.txId === '' || state.txIds.has(tx.txId)) continue;
        const indexed = index.get(tx.txId);
        if (indexed === undefined || indexed.blockNum !== n || indexed.txNum !== i || indexed.code !== codes[i]) {
          return bad(n, `transaction index entry for ${tx.txId} does not match its place in the chain`);
        }
        index.delete(tx.txId);
        state.txIds.add(tx.txId);
        if (tx.code !== 0) continue;
        if (tx.event !== undefined) emitted.set(i, { ...tx.event, txId: tx.txId });
        for (const w of tx.writes) {
          written.set(historyKey(i, w.ns, w.key), { txId: tx.txId, tsMs: tx.timestamp.getTime(), value: w.value });
          let ns = state.values.get(w.ns);
          if (ns === undefined) state.values.set(w.ns, (ns = new Map()));
          const kept = ns.get(w.key)?.validationParameter;
          if (w.value === null) ns.delete(w.key);
          else ns.set(w.key, { value: w.value, version: { blockNum: n, txNum: i }, ...(kept === undefined ? {} : { validationParameter: kept }) });
        }
        for (const m of tx.metadataWrites ?? []) {
          const current = state.values.get(m.ns)?.get(m.key);
          if (current === undefined) continue;
          const { validationParameter: _old, ...rest } = current;
          state.values.get(m.ns)!.set(m.key, { ...rest, version: { blockNum: n, txNum: i }, ...(m.value === null ? {} : { validationParameter: m.value }) });
        }
      }
      for (; pending.done !== true && pending.value.blockNum <= n; pending = history.next()) {
        const row = pending.value;
        const what = `history row ${row.ns}/${JSON.stringify(row.key)} at block ${row.blockNum} transaction ${row.txNum}`;
        const w = row.blockNum === n ? written.get(historyKey(row.txNum, row.ns, row.key)) : undefined;
        if (w === undefined) return bad(n, `${what}: that transaction does not write the key`);
        written.delete(historyKey(row.txNum, row.ns, row.key));
        if (row.isDelete !== (w.value === null))
          return bad(n, `${what}: ${row.isDelete ? 'a delete, the block writes a value' : 'a write, the block deletes the key'}`);
        if (row.txId !== w.txId || row.timestampMs !== w.tsMs) return bad(n, `${what}: tx id or time differs from the block`);
        if (row.value !== null && !row.value.equals(w.value ?? Buffer.alloc(0))) return bad(n, `${what}: stored value differs from the block`);
      }
      if (written.size > 0) return bad(n, `key history is missing ${written.size} writes of this block`);
      for (; pendingEvent.done !== true && pendingEvent.value.blockNum <= n; pendingEvent = events.next()) {
        const row = pendingEvent.value;
        const what = `events row at block ${row.blockNum} transaction ${row.txNum}`;
        const e = row.blockNum === n ? emitted.get(row.txNum) : undefined;
        if (e === undefined) return bad(n, `${what}: that transaction emitted no event`);
        emitted.delete(row.txNum);
        if (row.txId !== e.txId || row.chaincode !== e.chaincode || row.name !== e.name || !row.payload.equals(Buffer.from(e.payload))) {
          return bad(n, `${what}: tx id, chaincode, name or payload differs from the block`);
        }
      }
      if (emitted.size > 0) return bad(n, `events table is missing ${emitted.size} events of this block`);
      transactions += envelopes.length;
      previousHash = headerHash;
      expected = n + 1;
    }
    if (pending.done !== true) return bad(expected - 1, `key history has rows for block ${pending.value.blockNum}, which is not in the chain`);
    if (pendingEvent.done !== true) return bad(expected - 1, `events table has rows for block ${pendingEvent.value.blockNum}, which is not in the chain`);
    if (index.size > 0) return bad(expected - 1, `transaction index holds ${index.size} entries that are in no block`);
    const mismatch = compareState(store, state);
    if (mismatch !== undefined) return bad(expected - 1, mismatch);
    return { ok: true, blocks: expected, transactions };
  } finally {
    // An early return leaves the cursors open; the snapshot ends after this.
    history.return(undefined);
    events.return(undefined);
  }
}

const historyKey = (txNum: number, ns: string, key: string) => JSON.stringify([txNum, ns, key]);

function compareState(store: LedgerStore, replayed: ReplayState): string | undefined {
  let count = 0;
  for (const row of store.allState()) {
    count += 1;
    const r = replayed.values.get(row.ns)?.get(row.key);
    if (r === undefined) return `world state has ${row.ns}/${JSON.stringify(row.key)} that no block wrote`;
    if (!r.value.equals(row.value) || r.version.blockNum !== row.version.blockNum || r.version.txNum !== row.version.txNum) {
      return `world state value of ${row.ns}/${JSON.stringify(row.key)} differs from the blocks`;
    }
    if (!Buffer.from(r.validationParameter ?? []).equals(Buffer.from(row.validationParameter ?? []))) {
      return `endorsement policy of ${row.ns}/${JSON.stringify(row.key)} differs from the blocks`;
    }
  }
  const total = [...replayed.values.values()].reduce((sum, ns) => sum + ns.size, 0);
  return count === total ? undefined : `world state is missing ${total - count} keys the blocks wrote`;
}

if (require.main === module) {
  const program = new Command()
    .name('ledgerflow-ledger-verify')
    .description('Verify an embedded ledger: hash chain, transaction order, validation codes, world state, key history, chaincode events')
    .requiredOption('--data-dir <dir>', 'the data dir the peer was started with')
    .option('--endorsement-policy <policy>', 'the endorsement policy the peer was started with', 'MAJORITY Endorsement')
    .action((opts: { dataDir: string; endorsementPolicy: string }) => {
      try {
        const result = verifyLedger(opts.dataDir, { endorsementPolicy: opts.endorsementPolicy });
        process.stdout.write(`${JSON.stringify(result)}\n`);
        process.exitCode = result.ok ? 0 : 1;
      } catch (err) {
        process.stderr.write(`ledgerflow-ledger-verify: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 2;
      }
    });
  program.parse();
}
