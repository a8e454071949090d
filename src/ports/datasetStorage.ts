import type { DatasetLocation } from '../core/model';
export type { DatasetLocation } from '../core/model';

/** What an owner names when registering existing data instead of (or besides) uploading files. */
export type DatasetSource =
  | { kind: 'local'; /** absolute, under one of LOCAL_DATASET_ROOTS */ path: string }
  | { kind: 'azure-files'; shareUrl: string; /** SAS token or account key; goes to the key store only */ credential: string };

export interface StoredDataset {
  location: DatasetLocation;
  /** Of the content as written (core/datasets/contentHash.ts), where the adapter computes one. */
  contentHash?: string;
  /** The secret to keep in the owner's key store under `location.credentialRef`, if any. */
  credential?: string;
}

export interface TreeEntry {
  /** Relative to the dataset root, `/`-separated, never starting with `/` or containing `..`. */
  path: string;
  type: 'file' | 'directory';
  size?: number;
}

export interface DatasetStorage {
  readonly kind: DatasetLocation['kind'];
  /** Creates storage owned by the platform and writes the uploaded files (relative paths, checked). */
  create(datasetId: string, files: Record<string, string>): Promise<StoredDataset>;
  /** Takes on the existing storage of `ownerOrg` (checked: local directories only under that
   * organization's roots), writing the uploaded files into it. */
  adopt(datasetId: string, source: DatasetSource, files: Record<string, string>, ownerOrg: string): Promise<StoredDataset>;
  /** Lists files under the dataset root (recursively, paged by the caller). */
  tree(location: DatasetLocation, credential: string | undefined): Promise<TreeEntry[]>;
  /** Removes the data that the platform created (adopted storage is left alone), every version. */
  remove(location: DatasetLocation, credential: string | undefined): Promise<void>;
  /** Content versions, where the adapter keeps them (absent: the dataset stays at version 1). */
  readonly versions?: DatasetVersions;
}

/** A new version change: the files to add or replace, or with `replace` the whole content. */
export interface VersionChange {
  from: number;
  to: number;
  files: Record<string, string>;
  replace: boolean;
}

/**
 * Versioned directories: every version is a whole directory of its own, written once and
 * never changed after, so a run mounts the version recorded at its launch to the end while
 * newer versions are added beside it.
 */
export interface DatasetVersions {
  /** Whether this dataset's storage can take new versions (adopted data is the owner's to change). */
  supports(location: DatasetLocation): boolean;
  /** Writes version `to` from version `from` and the change; answers its content hash.
   * Refused (conflict) when `to` is being or has been written already. */
  add(location: DatasetLocation, change: VersionChange): Promise<{ contentHash: string }>;
  /** Removes a version that `add` wrote but the ledger did not record. */
  discard(location: DatasetLocation, version: number): Promise<void>;
  /** Where one version's content is. */
  at(location: DatasetLocation, version: number): DatasetLocation;
}
