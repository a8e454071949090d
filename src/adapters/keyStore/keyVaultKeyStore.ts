import { DefaultAzureCredential } from '@azure/identity';
import type { TokenCredential } from '@azure/core-auth';
import { SecretClient, type SecretClientOptions } from '@azure/keyvault-secrets';
import { LedgerflowError } from '../../core/errors';
import { assertSecretName } from '../../core/secretNames';
import type { KeyStore, KeyStores } from '../../ports/keyStore';

/**
 * Azure Key Vault, one vault per organization (settings KEY_VAULT_URL_<ORG>). Authenticates with DefaultAzureCredential (managed identity on Azure)
 * unless a credential is injected. Destroy soft-deletes, waits for the deletion to land,
 * then purges; a vault with purge protection refuses the purge, which is reported, not hidden.
 */
export interface KeyVaultKeyStoresOptions {
  vaultUrls: Readonly<Record<string, string>>;
  credential?: TokenCredential;
  clientOptions?: SecretClientOptions;
  /** How often to poll for a soft deletion to complete. */
  deletePollIntervalMs?: number;
}

export class KeyVaultKeyStores implements KeyStores {
  readonly kind = 'keyvault' as const;
  private readonly stores = new Map<string, KeyStore>();
  private readonly credential: TokenCredential;
  constructor(private readonly options: KeyVaultKeyStoresOptions) {
    this.credential = options.credential ?? new DefaultAzureCredential();
  }

  forOrg(org: string): KeyStore {
    let store = this.stores.get(org);
    if (store === undefined) {
      const url = this.options.vaultUrls[org];
      if (url === undefined) throw new LedgerflowError('unavailable', `no key vault is configured for organization ${org}`);
      const client = new SecretClient(url, this.credential, this.options.clientOptions);
      store = new KeyVaultKeyStore(client, this.options.deletePollIntervalMs ?? 2000);
      this.stores.set(org, store);
    }
    return store;
  }
}

const statusOf = (err: unknown): number | undefined =>
  typeof err === 'object' && err !== null && typeof (err as { statusCode?: unknown }).statusCode === 'number'
    ? (err as { statusCode: number }).statusCode
    : undefined;

class KeyVaultKeyStore implements KeyStore {
  constructor(
    private readonly client: SecretClient,
    private readonly pollIntervalMs: number,
  ) {}

  async set(name: string, value: string): Promise<void> {
    assertSecretName(name);
    await this.client.setSecret(name, value);
  }

  async get(name: string): Promise<string | undefined> {
    assertSecretName(name);
    try {
      return (await this.client.getSecret(name)).value;
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  async destroy(name: string): Promise<{ purged: boolean; reason?: string }> {
    assertSecretName(name);
    try {
      const poller = await this.client.beginDeleteSecret(name, { intervalInMs: this.pollIntervalMs });
      await poller.pollUntilDone();
    } catch (err) {
      // Absent: maybe already soft-deleted by an earlier attempt; the purge below settles it.
      if (statusOf(err) !== 404) throw err;
    }
    try {
      await this.client.purgeDeletedSecret(name);
      return { purged: true };
    } catch (err) {
      const status = statusOf(err);
      if (status === 404) return { purged: true };
      if (status === 403 || status === 400) {
        // Purge protection (403) or a vault without purge (400): the secret stays soft-deleted
        // until the vault's retention period ends. The service's message says which.
        return { purged: false, reason: err instanceof Error ? err.message : 'the vault refused to purge' };
      }
      throw err;
    }
  }
}
