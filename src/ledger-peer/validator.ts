import { peer } from '@hyperledger/fabric-protos';
import { decodeTransactionEnvelope, MalformedError, type DecodedTransaction } from './transaction';
import { decodeRwset, type NamespacedRwset } from './rwset';
import type { ChannelState } from './channel';
import { applyConfigUpdate, decodeConfigTransaction, type ChannelConfig } from './channelConfig';
import { decodeSignaturePolicy, satisfied, type EndorsementPolicy, type Signer } from './endorsementPolicy';
import type { CommittedTx } from './store';
import { compareKeys, validateReadWriteSet, type StateReader, type Version } from './simulator';

/**
 * Commit-time validation of a block's transactions, as a Fabric committer does it: header
 * and tx id, the creator's signature, the endorsement (the chaincode's policy and the
 * key-level policies of the keys written), config transactions, duplicate
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
  /** `notBelow`: the id is known to be in no block below this height (the peer looked it up
   * when it endorsed the transaction), so only later blocks need looking at. */
  hasTx(txId: string, notBelow?: number): boolean;
  /** The key's endorsement policy (VALIDATION_PARAMETER), if it has one. */
  validationParameter(ns: string, key: string): Uint8Array | undefined;
}

/** What decides whether a transaction is endorsed enough: the channel (membership, its
 * organizations; config transactions replace it) and each chaincode's endorsement policy. */
export interface ValidationPolicy {
  channel: ChannelState;
  chaincodePolicy(ns: string): EndorsementPolicy;
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
  /** The ledger height when the peer endorsed it, after which it found its tx id in no block:
   * the duplicate check looks at the blocks from there on only. */
  unseenBelow: number;
  rwsets: NamespacedRwset[];
  /** The organizations whose endorsing identities signed it. */
  signers: Signer[];
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

/** Writes of valid transactions not yet in committed state: versions (null: deleted) and
 * endorsement policies (null: removed), per namespace and key. */
export interface PendingUpdates {
  versions: Map<string, Map<string, Version | null>>;
  parameters: Map<string, Map<string, Buffer | null>>;
}

export const newPendingUpdates = (): PendingUpdates => ({ versions: new Map(), parameters: new Map() });

function setIn<V>(map: Map<string, Map<string, V>>, ns: string, key: string, value: V): void {
  let inner = map.get(ns);
  if (inner === undefined) map.set(ns, (inner = new Map()));
  inner.set(key, value);
}

/** Records a valid transaction's effects (writes keep a key's endorsement policy, deletes drop
 * it, metadata writes set it and, as on Fabric, give the key a new version). */
export function recordUpdates(updates: PendingUpdates, tx: CommittedTx, blockNum: number, txNum: number): void {
  for (const w of tx.writes) {
    setIn(updates.versions, w.ns, w.key, w.value === null ? null : { blockNum, txNum });
    if (w.value === null) setIn(updates.parameters, w.ns, w.key, null);
  }
  for (const m of tx.metadataWrites ?? []) {
    setIn(updates.parameters, m.ns, m.key, m.value);
    setIn(updates.versions, m.ns, m.key, { blockNum, txNum });
  }
}

export function validateBlock(
  envelopes: readonly (Uint8Array | OrderedEnvelope)[],
  blockNum: number,
  state: StateView,
  policy: ValidationPolicy,
): ValidatedBlock {
  const updates = newPendingUpdates();
  const seen = new Set<string>();
  const codes: number[] = [];
  const txs: CommittedTx[] = [];
  envelopes.forEach((envelope, txNum) => {
    const ordered = envelope instanceof Uint8Array ? { bytes: envelope } : envelope;
    const config = ordered.endorsedHere === undefined ? validateConfigTx(ordered.bytes, policy.channel) : undefined;
    if (config !== undefined) {
      codes.push(config.code);
      txs.push({ txId: config.txId, code: config.code, timestamp: new Date(0), writes: [] });
      return;
    }
    const { code, tx, rwsets } = validateTx(ordered, state, policy, updates, seen);
    codes.push(code);
    if (tx !== undefined) seen.add(tx.txId);
    const writes: CommittedTx['writes'] = [];
    const metadataWrites: NonNullable<CommittedTx['metadataWrites']> = [];
    if (code === Code.VALID && rwsets !== undefined) {
      for (const { namespace, rwset } of rwsets) {
        for (const w of rwset.writes) writes.push({ ns: namespace, key: w.key, value: w.value });
        // A policy set on a key that does not exist after the transaction is dropped (the
        // state database keeps metadata with a value), here once for the committer, the
        // in-flight view and the verifier alike.
        for (const m of rwset.metadataWrites ?? []) {
          const written = rwset.writes.find((w) => w.key === m.key);
          const pending = updates.versions.get(namespace);
          const exists =
            written !== undefined ? written.value !== null : pending?.has(m.key) ? pending.get(m.key) !== null : state.version(namespace, m.key) !== undefined;
          if (exists) metadataWrites.push({ ns: namespace, key: m.key, value: m.validationParameter });
        }
      }
    }
    const committed: CommittedTx = {
      txId: tx?.txId ?? '',
      code,
      timestamp: tx?.timestamp ?? new Date(0),
      writes,
      ...(metadataWrites.length === 0 ? {} : { metadataWrites }),
      ...(tx?.event === undefined ? {} : { event: tx.event }),
    };
    if (code === Code.VALID) recordUpdates(updates, committed, blockNum, txNum);
    txs.push(committed);
  });
  return { codes, txs };
}

/**
 * A CONFIG transaction (undefined for any other type): signed by the orderer of the channel's
 * configuration, and, but for the first configuration, the result of its config update
 * applied to the configuration in force (admin signatures included). A valid one becomes the
 * channel's configuration for the transactions after it.
 */
function validateConfigTx(bytes: Uint8Array, channel: ChannelState): { code: number; txId: string } | undefined {
  let decoded;
  try {
    decoded = decodeConfigTransaction(bytes);
  } catch {
    return { code: Code.BAD_PAYLOAD, txId: '' };
  }
  if (decoded === undefined) return undefined;
  const { txId } = decoded;
  if (channel.ordererMembership(decoded.config).verify(decoded.creator, decoded.payloadBytes, decoded.signature) instanceof Error) {
    return { code: Code.BAD_CREATOR_SIGNATURE, txId };
  }
  const current = channel.config;
  if (current !== undefined) {
    if (decoded.lastUpdate === undefined) return { code: Code.INVALID_CONFIG_TRANSACTION, txId };
    const next = applyConfigUpdate(current, decoded.lastUpdate, (creator, message, signature) => channel.membership.verify(creator, message, signature));
    if (next instanceof Error || !sameConfig(next, decoded.config)) return { code: Code.INVALID_CONFIG_TRANSACTION, txId };
  }
  channel.apply(decoded.config);
  return { code: Code.VALID, txId };
}

const sameConfig = (a: ChannelConfig, b: ChannelConfig): boolean =>
  a.sequence === b.sequence && JSON.stringify(a.orgs) === JSON.stringify(b.orgs) && JSON.stringify(a.orderer) === JSON.stringify(b.orderer);

function validateTx(
  { bytes, endorsedHere, creatorVerified }: OrderedEnvelope,
  state: StateView,
  policy: ValidationPolicy,
  updates: PendingUpdates,
  seen: Set<string>,
): { code: number; tx?: DecodedTransaction; rwsets?: NamespacedRwset[] } {
  let tx: DecodedTransaction;
  try {
    tx = endorsedHere?.tx ?? decodeTransactionEnvelope(bytes);
  } catch (err) {
    return { code: err instanceof MalformedError ? err.validationCode : Code.BAD_PAYLOAD };
  }
  if (seen.has(tx.txId) || state.hasTx(tx.txId, endorsedHere?.unseenBelow)) return { code: Code.DUPLICATE_TXID, tx };
  const membership = policy.channel.membership;
  if (creatorVerified !== true && membership.verify(tx.creator, tx.payloadBytes, tx.signature) instanceof Error) {
    return { code: Code.BAD_CREATOR_SIGNATURE, tx };
  }
  let rwsets: NamespacedRwset[];
  try {
    rwsets = endorsedHere?.rwsets ?? decodeRwset(tx.results);
  } catch {
    return { code: Code.BAD_RWSET, tx };
  }
  if (tx.response.status >= 400) return { code: Code.ENDORSEMENT_POLICY_FAILURE, tx };
  const signers = endorsedHere?.signers ?? verifiedEndorsers(tx, membership);
  const parameter = (ns: string, key: string): Uint8Array | undefined => {
    const pending = updates.parameters.get(ns);
    if (pending?.has(key)) return pending.get(key) ?? undefined;
    return state.validationParameter(ns, key);
  };
  if (!endorsementSatisfied(tx.chaincodeName, rwsets, signers, policy, parameter)) return { code: Code.ENDORSEMENT_POLICY_FAILURE, tx };
  for (const { namespace, rwset } of rwsets) {
    const outcome = validateReadWriteSet(mergedReader(state, updates.versions.get(namespace), namespace), rwset);
    if (outcome !== 'VALID') return { code: Code[outcome], tx };
  }
  return { code: Code.VALID, tx, rwsets };
}

/** The endorsements whose identity is a channel member and whose signature over the response
 * payload verifies, as the identities a policy is evaluated against (each identity once). */
function verifiedEndorsers(tx: DecodedTransaction, membership: ChannelState['membership']): Signer[] {
  const signers: Signer[] = [];
  const seen = new Set<string>();
  for (const e of tx.endorsements) {
    const id = Buffer.from(e.endorser).toString('base64');
    if (seen.has(id)) continue;
    const member = membership.verify(e.endorser, Buffer.concat([tx.proposalResponsePayload, e.endorser]), e.signature);
    if (member instanceof Error) continue;
    seen.add(id);
    signers.push({ mspId: member.mspId, isAdmin: member.isAdmin });
  }
  return signers;
}

/**
 * Fabric's state-based validation (core/common/validation/statebased): every key the
 * transaction writes (or whose policy it changes) that has an endorsement policy must have
 * that policy satisfied, the policy in force before this transaction; when some written key
 * has none, or nothing is written, the chaincode's policy must be satisfied.
 */
export function endorsementSatisfied(
  chaincode: string,
  rwsets: readonly NamespacedRwset[],
  signers: readonly Signer[],
  policy: ValidationPolicy,
  parameter: (ns: string, key: string) => Uint8Array | undefined,
): boolean {
  const channel = policy.channel;
  if (channel.config === undefined) return signers.some((s) => s.mspId === channel.legacyEndorserMspId);
  const orgs = channel.orgMspIds;
  let chaincodeLevel = rwsets.every(({ rwset }) => rwset.writes.length === 0 && (rwset.metadataWrites ?? []).length === 0);
  for (const { namespace, rwset } of rwsets) {
    const keys = new Set([...rwset.writes.map((w) => w.key), ...(rwset.metadataWrites ?? []).map((m) => m.key)]);
    for (const key of keys) {
      const vp = parameter(namespace, key);
      if (vp === undefined) {
        chaincodeLevel = true;
        continue;
      }
      let keyPolicy;
      try {
        keyPolicy = decodeSignaturePolicy(vp);
      } catch {
        return false;
      }
      if (!satisfied(keyPolicy, signers, orgs)) return false;
    }
  }
  return !chaincodeLevel || satisfied(policy.chaincodePolicy(chaincode), signers, orgs);
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
