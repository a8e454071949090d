import type { DatasetRecord, LeaseRecord, LeasePolicy, StorageKind } from '../model';
import type { HistoryEntry } from '../model';
import { approvalOf, resultsOf } from './policy';

/**
 * What the API shows of ledger records. Never the sealed location, a key or a credential;
 * identities as {user, org} (the MSP id is the ledger's business).
 */
export interface PublicLease {
  datasetId: string;
  holder: { user: string; org: string };
  takenAt: string;
  expiresAt: string;
}

export interface PublicDataset {
  id: string;
  name: string;
  description: string;
  owner: { user: string; org: string };
  policy: LeasePolicy;
  storageKind: StorageKind;
  /** The content version (1 at registration; each push adds one). */
  version: number;
  /** Merkle-style hash of that version's content; null where none was computed (adopted or Azure Files data). */
  contentHash: string | null;
  createdAt: string;
  updatedAt: string;
  deletedAt?: string;
  state: 'leased' | 'free' | 'deleted';
  lease: PublicLease | null;
}

export interface PublicHistoryEntry {
  txId: string;
  timestamp: string;
  action: string;
  by: { user: string; org: string };
  value?: unknown;
}

export function isLeaseCurrent(lease: LeaseRecord | undefined, now: Date): lease is LeaseRecord {
  return lease !== undefined && Date.parse(lease.expiresAt) > now.getTime();
}

export function publicLease(lease: LeaseRecord): PublicLease {
  return { datasetId: lease.datasetId, holder: { user: lease.holder.user, org: lease.holder.org }, takenAt: lease.takenAt, expiresAt: lease.expiresAt };
}

export function publicDataset(record: DatasetRecord, now: Date): PublicDataset {
  const lease = record.deletedAt === undefined && isLeaseCurrent(record.lease, now) ? publicLease(record.lease) : null;
  return {
    id: record.id,
    name: record.name,
    description: record.description,
    owner: { user: record.owner.user, org: record.owner.org },
    policy: {
      leaseTtlSeconds: record.policy.leaseTtlSeconds,
      maxLeaseTtlSeconds: record.policy.maxLeaseTtlSeconds,
      approval: approvalOf(record.policy),
      results: resultsOf(record.policy),
      ...(record.policy.maxResultBytes === undefined ? {} : { maxResultBytes: record.policy.maxResultBytes }),
    },
    storageKind: record.storageKind,
    version: record.version ?? 1,
    contentHash: record.contentHash ?? null,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    ...(record.deletedAt === undefined ? {} : { deletedAt: record.deletedAt }),
    state: record.deletedAt !== undefined ? 'deleted' : lease === null ? 'free' : 'leased',
    lease,
  };
}

/** Ledger states may carry the sealed location (and MSP ids); the audit trail shows neither. */
export function publicHistoryEntry(entry: HistoryEntry): PublicHistoryEntry {
  return {
    txId: entry.txId,
    timestamp: entry.timestamp,
    action: entry.action,
    by: { user: entry.by.user, org: entry.by.org },
    ...(entry.value === undefined ? {} : { value: scrub(entry.value) }),
  };
}

const HIDDEN = new Set(['sealedLocation', 'mspId']);
function scrub(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrub);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => !HIDDEN.has(k))
      .map(([k, v]) => [k, scrub(v)]),
  );
}
