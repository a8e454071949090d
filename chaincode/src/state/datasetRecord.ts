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
  createdAt: string;
  updatedAt: string;
  /** Set when tombstoned; the sealed location is cleared then. */
  deletedAt?: string;
}

/** A dataset as returned: the stored record with its current (unexpired) lease. */
export interface DatasetRecord extends StoredDataset {
  lease?: LeaseRecord;
}
