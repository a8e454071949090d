import type { DatasetLocation } from '../core/model';
export type { DatasetLocation } from '../core/model';

/** What an owner names when registering existing data instead of (or besides) uploading files. */
export type DatasetSource =
  | { kind: 'local'; /** absolute, under one of LOCAL_DATASET_ROOTS */ path: string }
  | { kind: 'azure-files'; shareUrl: string; /** SAS token or account key; goes to the key store only */ credential: string };

export interface StoredDataset {
  location: DatasetLocation;
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
  /** Removes the data that the platform created (adopted storage is left alone). */
  remove(location: DatasetLocation, credential: string | undefined): Promise<void>;
}
