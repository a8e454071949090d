import { peer } from '@hyperledger/fabric-protos';
import { decodeTransactionEnvelope, MalformedError, type DecodedTransaction } from './transaction';
import { decodeRwset, type NamespacedRwset } from './rwset';
import type { Membership } from './membership';
import type { CommittedTx } from './store';
import { compareKeys, validateReadWriteSet, type StateReader, type Version } from './simulator';

/**
 * Commit-time validation of a block's transactions, as a Fabric committer does it: header
 * and tx id, the creator's signature, the endorsement (by the peer organization), duplicate
 * tx ids, and MVCC: every read (key version, range phantoms) must still hold against
 * committed state plus the valid transactions before it in the same block. Shared by the
 * committer and by the verifier, which replays the chain into an empty state.
 */

const Code = peer.TxValidationCode;

/** Committed state as the validator needs it. */
export interface StateView {
  version(ns: string, key: string): Version | undefined;
  /** Keys in [startKey, endKey) (endKey '' = unbounded) in byte order. */
  rangeVersions(ns: string, startKey: string, endKey: string): Iterable<{ key: string; version: Version }>;
  hasTx(txId: string): boolean;
}

export interface EndorsementPolicy {
  /** The MSP id whose peers endorse. */
  endorserMspId: string;
  membership: Membership;
}

/**
 * A submitted envelope whose payload is byte for byte one this peer built and signed at
 * endorsement (the gateway compared their SHA-256): its contents are already known, so
 * validation does not decode them again, and its endorsement is this peer's own, made over
 * exactly that response payload, so it needs no signature check. Everything else (the
 * client's signature, duplicates, MVCC) is checked as for any transaction.
 */
export interface EndorsedHere {
  tx: DecodedTransaction;
  rwsets: NamespacedRwset[];
}

/** An envelope to validate, with what the peer already knows of it. */
export interface OrderedEnvelope {
  bytes: Uint8Array;
  endorsedHere?: EndorsedHere;
  /** The creator's signature over the payload was checked at submit (the orderer's signature
   * filter) against the same membership: not checked twice. Replays check it. */
  creatorVerified?: boolean;
}

export interface ValidatedBlock {
  codes: number[];
  txs: CommittedTx[];
}

export function validateBlock(
  envelopes: readonly (Uint8Array | OrderedEnvelope)[],
  blockNum: number,
  state: StateView,
  policy: EndorsementPolicy,
): ValidatedBlock {
  const updates = new Map<string, Map<string, Version | null>>();
  const seen = new Set<string>();
  const codes: number[] = [];
  const txs: CommittedTx[] = [];
  envelopes.forEach((envelope, txNum) => {
    const { code, tx, rwsets } = validateTx(envelope instanceof Uint8Array ? { bytes: envelope } : envelope, state, policy, updates, seen);
    codes.push(code);
    if (tx !== undefined) seen.add(tx.txId);
    const writes: CommittedTx['writes'] = [];
    if (code === Code.VALID && rwsets !== undefined) {
      for (const { namespace, rwset } of rwsets) {
        let nsUpdates = updates.get(namespace);
        if (nsUpdates === undefined) updates.set(namespace, (nsUpdates = new Map()));
        for (const w of rwset.writes) {
          nsUpdates.set(w.key, w.value === null ? null : { blockNum, txNum });
          writes.push({ ns: namespace, key: w.key, value: w.value });
        }
      }
    }
    txs.push({
      txId: tx?.txId ?? '',
      code,
      timestamp: tx?.timestamp ?? new Date(0),
      writes,
      ...(tx?.event === undefined ? {} : { event: tx.event }),
    });
  });
  return { codes, txs };
}

function validateTx(
  { bytes, endorsedHere, creatorVerified }: OrderedEnvelope,
  state: StateView,
  policy: EndorsementPolicy,
  updates: Map<string, Map<string, Version | null>>,
  seen: Set<string>,
): { code: number; tx?: DecodedTransaction; rwsets?: NamespacedRwset[] } {
  let tx: DecodedTransaction;
  try {
    tx = endorsedHere?.tx ?? decodeTransactionEnvelope(bytes);
  } catch (err) {
    return { code: err instanceof MalformedError ? err.validationCode : Code.BAD_PAYLOAD };
  }
  if (seen.has(tx.txId) || state.hasTx(tx.txId)) return { code: Code.DUPLICATE_TXID, tx };
  if (creatorVerified !== true && policy.membership.verify(tx.creator, tx.payloadBytes, tx.signature) instanceof Error) {
    return { code: Code.BAD_CREATOR_SIGNATURE, tx };
  }
  if (endorsedHere === undefined && !endorsementSatisfied(tx, policy)) return { code: Code.ENDORSEMENT_POLICY_FAILURE, tx };
  let rwsets: NamespacedRwset[];
  try {
    rwsets = endorsedHere?.rwsets ?? decodeRwset(tx.results);
  } catch {
    return { code: Code.BAD_RWSET, tx };
  }
  for (const { namespace, rwset } of rwsets) {
    const outcome = validateReadWriteSet(mergedReader(state, updates.get(namespace), namespace), rwset);
    if (outcome !== 'VALID') return { code: Code[outcome], tx };
  }
  return { code: Code.VALID, tx, rwsets };
}

function endorsementSatisfied(tx: DecodedTransaction, policy: EndorsementPolicy): boolean {
  if (tx.response.status >= 400) return false;
  return tx.endorsements.some((e) => {
    const member = policy.membership.resolve(e.endorser);
    if (member instanceof Error || member.mspId !== policy.endorserMspId) return false;
    return !(policy.membership.verify(e.endorser, Buffer.concat([tx.proposalResponsePayload, e.endorser]), e.signature) instanceof Error);
  });
}

const NO_VALUE = Buffer.alloc(0);

/** Is `key` in [startKey, endKey)? endKey '' is unbounded, as in Fabric range queries. */
export function inRange(key: string, startKey: string, endKey: string): boolean {
  return compareKeys(key, startKey) >= 0 && (endKey === '' || compareKeys(key, endKey) < 0);
}

/** Committed state overlaid with the writes of earlier valid transactions in the block: the
 * state a transaction is validated against. Only versions matter to MVCC. */
function mergedReader(state: StateView, nsUpdates: Map<string, Version | null> | undefined, ns: string): StateReader {
  return {
    get(key) {
      const version = nsUpdates?.has(key) ? nsUpdates.get(key) : state.version(ns, key);
      return version == null ? undefined : { value: NO_VALUE, version };
    },
    range(startKey, endKey) {
      const merged = new Map<string, Version>();
      for (const { key, version } of state.rangeVersions(ns, startKey, endKey)) merged.set(key, version);
      for (const [key, version] of nsUpdates ?? []) {
        if (!inRange(key, startKey, endKey)) continue;
        if (version === null) merged.delete(key);
        else merged.set(key, version);
      }
      return [...merged].map(([key, version]) => ({ key, value: NO_VALUE, version })).sort((a, b) => compareKeys(a.key, b.key));
    },
    history: () => [],
  };
}
