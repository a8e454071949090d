import type { RangeRead, ReadWriteSet, StateReader, Version } from './types';

/** Fabric's names for the outcomes of MVCC validation (peer.TxValidationCode). */
export type ValidationCode = 'VALID' | 'MVCC_READ_CONFLICT' | 'PHANTOM_READ_CONFLICT';

/**
 * Validates a transaction's read set as a Fabric committer does: every key read must still
 * be at the version read (or still absent), and every range query must still return the
 * same keys at the same versions. `state` is committed state plus the writes of the
 * transactions validated before this one in the same block.
 *
 * A range read that was not exhausted (the chaincode stopped early, or a page was full)
 * only covers the keys it returned: its first `keys.length` committed entries must match,
 * which is Fabric's check of [startKey, last key read].
 */
export function validateReadWriteSet(state: StateReader, rwset: ReadWriteSet): ValidationCode {
  for (const read of rwset.reads) {
    if (!sameVersion(state.get(read.key)?.version ?? null, read.version)) return 'MVCC_READ_CONFLICT';
  }
  for (const range of rwset.rangeReads) {
    if (!rangeUnchanged(state, range)) return 'PHANTOM_READ_CONFLICT';
  }
  return 'VALID';
}

function rangeUnchanged(state: StateReader, range: RangeRead): boolean {
  const committed = state.range(range.startKey, range.endKey)[Symbol.iterator]();
  try {
    for (const seen of range.keys) {
      const now = committed.next();
      if (now.done === true || now.value.key !== seen.key || !sameVersion(now.value.version, seen.version)) return false;
    }
    return !range.exhausted || committed.next().done === true;
  } finally {
    committed.return?.();
  }
}

const sameVersion = (a: Version | null, b: Version | null): boolean => (a === null || b === null ? a === b : a.blockNum === b.blockNum && a.txNum === b.txNum);
