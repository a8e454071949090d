/**
 * One organization's secrets. Azure Key Vault in production (one vault per org), an
 * encrypted file in the data dir locally. Names are `[0-9a-zA-Z-]{1,127}` (Key Vault's rule).
 * Values never leave the activity or function that asked for them.
 */
export interface KeyStore {
  set(name: string, value: string): Promise<void>;
  /** undefined when absent or deleted. */
  get(name: string): Promise<string | undefined>;
  /** Deletes and purges (crypto-shredding). `purged: false` with a reason when the
   * store keeps deleted secrets (Key Vault purge protection). */
  destroy(name: string): Promise<{ purged: boolean; reason?: string }>;
}

export interface KeyStores {
  forOrg(org: string): KeyStore;
  readonly kind: 'file' | 'keyvault';
}
