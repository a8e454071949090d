import type { Identity } from './identity';
import type { LeasePolicy } from './leasePolicy';
import type { LeaseRecord } from './leaseRecord';

export type StorageKind = 'local' | 'azure-files';

/** A dataset as stored under its key. The lease lives under its own key (see keys.ts). */
export interface StoredDataset {
  id: string;
  name: string;
  description: string;
  owner: Identity;
  policy: LeasePolicy;
  storageKind: StorageKind;
  /** AES-256-GCM ciphertext made by the owner's key store; stored as given, never opened here. */
  sealedLocation: string;
  /** Content version, from 1 at registration; each `UpdateDatasetContent` adds one.
   * Absent on datasets registered before versions: read as 1. */
  version?: number;
  /** Merkle-style sha256 over the version's paths and file hashes (src/core/datasets/
   * contentHash.ts), as the owner's platform computed it; absent where none was computed. */
  contentHash?: string;
  createdAt: string;
  updatedAt: string;
  /** Set when tombstoned; the sealed location is cleared then. */
  deletedAt?: string;
}

/** A dataset as returned: the stored record with its current (unexpired) lease. */
export interface DatasetRecord extends StoredDataset {
  lease?: LeaseRecord;
}
