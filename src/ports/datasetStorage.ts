/**
 * Where a dataset's bytes live. The location is what gets sealed onto the ledger; the
 * credential (Azure Files) goes to the owner's key store only.
 */
export type DatasetLocation =
  | { kind: 'local'; path: string }
  | { kind: 'azure-files'; shareUrl: string; /** key-store secret name */ credentialRef: string };

export interface TreeEntry {
  /** Relative to the dataset root, `/`-separated, never starting with `/` or containing `..`. */
  path: string;
  type: 'file' | 'directory';
  size?: number;
}

export interface DatasetStorage {
  readonly kind: DatasetLocation['kind'];
  /** Creates the dataset's storage and writes the uploaded files (relative paths, checked). */
  create(datasetId: string, files: Record<string, string>): Promise<DatasetLocation>;
  /** Lists files under the dataset root (recursively, paged by the caller). */
  tree(location: DatasetLocation, credential: string | undefined): Promise<TreeEntry[]>;
  /** Removes the data that the platform created (adopted directories are left alone). */
  remove(location: DatasetLocation, credential: string | undefined): Promise<void>;
}
