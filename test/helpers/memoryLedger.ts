import { compareKeys, validateReadWriteSet, type ValidationCode } from '../../src/ledger-peer/simulator';
import type { ReadWriteSet, StateReader, Version, VersionedValue } from '../../src/ledger-peer/simulator';

export interface CommittedTx {
  txId: string;
  timestamp: Date;
  rwset: ReadWriteSet;
}

interface HistoryItem {
  txId: string;
  timestamp: Date;
  isDelete: boolean;
  value: Buffer;
}

/**
 * World state in memory with a committer's rules: each block's transactions are validated
 * in order (MVCC versions and phantom reads, against state including earlier valid
 * transactions of the block), valid writes are applied with version (block, tx), and key
 * history is kept. Chaincode tests run the contract through the same simulator as the peer
 * and commit here.
 */
export class MemoryLedger implements StateReader {
  private readonly values = new Map<string, VersionedValue>();
  private readonly sortedKeys: string[] = [];
  private readonly histories = new Map<string, HistoryItem[]>();
  private nextBlock = 1;

  get height(): number {
    return this.nextBlock;
  }

  get(key: string): VersionedValue | undefined {
    return this.values.get(key);
  }

  *range(startKey: string, endKey: string): Iterable<{ key: string } & VersionedValue> {
    for (let i = this.lowerBound(startKey); i < this.sortedKeys.length; i++) {
      const key = this.sortedKeys[i];
      if (endKey !== '' && compareKeys(key, endKey) >= 0) return;
      const found = this.values.get(key);
      if (found !== undefined) yield { key, ...found };
    }
  }

  history(key: string): Iterable<HistoryItem> {
    return [...(this.histories.get(key) ?? [])].reverse();
  }

  /** Commits one block; returns each transaction's validation code. */
  commitBlock(txs: CommittedTx[]): ValidationCode[] {
    const blockNum = this.nextBlock++;
    return txs.map((tx, txNum) => {
      const code = validateReadWriteSet(this, tx.rwset);
      if (code === 'VALID') this.apply(tx, { blockNum, txNum });
      return code;
    });
  }

  commit(tx: CommittedTx): ValidationCode {
    return this.commitBlock([tx])[0];
  }

  /** A frozen copy, to simulate several transactions against the same committed state. */
  snapshot(): StateReader {
    const copy = new MemoryLedger();
    for (const key of this.sortedKeys) copy.values.set(key, this.values.get(key)!);
    copy.sortedKeys.push(...this.sortedKeys);
    for (const [key, items] of this.histories) copy.histories.set(key, [...items]);
    return copy;
  }

  private apply(tx: CommittedTx, version: Version): void {
    for (const { key, value } of tx.rwset.writes) {
      const items = this.histories.get(key) ?? [];
      items.push({ txId: tx.txId, timestamp: tx.timestamp, isDelete: value === null, value: value ?? Buffer.alloc(0) });
      this.histories.set(key, items);
      const at = this.lowerBound(key);
      const present = this.sortedKeys[at] === key;
      if (value === null) {
        if (present) this.sortedKeys.splice(at, 1);
        this.values.delete(key);
      } else {
        if (!present) this.sortedKeys.splice(at, 0, key);
        this.values.set(key, { value, version });
      }
    }
  }

  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.sortedKeys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(this.sortedKeys[mid], key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
