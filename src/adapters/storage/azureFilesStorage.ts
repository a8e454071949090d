import type { TokenCredential } from '@azure/core-auth';
import {
  AnonymousCredential,
  ShareServiceClient,
  StorageSharedKeyCredential,
  type ShareClientOptions,
  type ShareDirectoryClient,
} from '@azure/storage-file-share';
import { LedgerflowError, validationError } from '../../core/errors';
import { fileMapProblems } from '../../core/relativePath';
import { credentialName } from '../../core/secretNames';
import type { DatasetLocation, DatasetSource, DatasetStorage, StoredDataset, TreeEntry } from '../../ports/datasetStorage';
import { isSasToken, parseShareUrl, shareUrlProblems, type ShareAddress } from '../../core/datasets/shareUrl';
import { resolvesToPublicOnly } from './publicAddress';

/**
 * Datasets on Azure Files. Adopted shares come with the owner's credential (SAS token or
 * account key), which is returned for the key store and kept nowhere else. Platform-owned
 * uploads go to a share `ds-<id>` in the platform account (settings AZURE_FILES_ACCOUNT_URL
 * and AZURE_FILES_CREDENTIAL); a key or SAS for it is stored per dataset like an owner's,
 * while with the app's managed identity nothing is stored and the identity is used.
 */
export interface AzureFilesStorageOptions {
  platformAccount?: { url: string; credential: string | TokenCredential };
  pipelineOptions?: ShareClientOptions;
  /** AZURE_FILES_ALLOW_PRIVATE: adopt shares whose host resolves to loopback, link-local or
   * private addresses (private endpoints, Azurite); off, adoption reaches public hosts only. */
  allowPrivateAddresses?: boolean;
}

export class AzureFilesDatasetStorage implements DatasetStorage {
  readonly kind = 'azure-files' as const;
  constructor(private readonly options: AzureFilesStorageOptions = {}) {}

  async create(datasetId: string, files: Record<string, string>): Promise<StoredDataset> {
    assertFiles(files);
    const account = this.options.platformAccount;
    if (account === undefined) {
      throw validationError('invalid source', [{ path: 'source', message: 'this deployment has no platform Azure Files account: name a share in source' }]);
    }
    const shareUrl = `${account.url.replace(/\/+$/, '')}/ds-${datasetId}`;
    const address = parseShareUrl(shareUrl);
    const share = serviceClient(address, account.credential, this.options.pipelineOptions).getShareClient(address.shareName);
    await share.create();
    try {
      await upload(share.rootDirectoryClient, files);
    } catch (err) {
      await share.deleteIfExists();
      throw err;
    }
    const loc = location(shareUrl, datasetId, false);
    return typeof account.credential === 'string' ? { location: loc, credential: account.credential } : { location: loc };
  }

  async adopt(datasetId: string, source: DatasetSource, files: Record<string, string>): Promise<StoredDataset> {
    if (source.kind !== 'azure-files') throw new LedgerflowError('bad_request', `Azure Files storage cannot adopt a ${source.kind} source`);
    const problems = [...shareUrlProblems(source.shareUrl, 'source.shareUrl'), ...fileMapProblems(files)];
    if (source.credential.length === 0) problems.push({ path: 'source.credential', message: 'must not be empty' });
    if (problems.length > 0) throw validationError('invalid source', problems);
    const dir = this.directory(parseShareUrl(source.shareUrl), source.credential);
    // Any failure to see the directory (absent, refused credential, unreachable or non-public
    // host) is the owner's input being wrong, and all answer alike: the SDK's error may name
    // the URL, and telling "private" from "unreachable" would map the host's network.
    const reachable = this.options.allowPrivateAddresses === true || (await resolvesToPublicOnly(new URL(source.shareUrl).hostname));
    const exists = reachable && (await dir.exists().catch(() => false));
    if (!exists) {
      throw validationError('invalid source', [
        { path: 'source.shareUrl', message: 'share or directory does not exist, or is not reachable with this credential' },
      ]);
    }
    await upload(dir, files);
    return { location: location(source.shareUrl, datasetId, true), credential: source.credential };
  }

  async tree(loc: DatasetLocation, credential: string | undefined): Promise<TreeEntry[]> {
    const root = this.directory(parseShareUrl(shareUrlOf(loc)), this.credentialFor(loc, credential));
    const entries: TreeEntry[] = [];
    const walk = async (dir: ShareDirectoryClient, prefix: string): Promise<void> => {
      for await (const item of dir.listFilesAndDirectories()) {
        const path = prefix === '' ? item.name : `${prefix}/${item.name}`;
        if (item.kind === 'directory') {
          entries.push({ path, type: 'directory' });
          await walk(dir.getDirectoryClient(item.name), path);
        } else {
          entries.push({ path, type: 'file', size: item.properties.contentLength });
        }
      }
    };
    await walk(root, '').catch((err: unknown) => {
      throw storageFailure(err);
    });
    return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async remove(loc: DatasetLocation, credential: string | undefined): Promise<void> {
    if (loc.adopted !== false) return;
    const address = parseShareUrl(shareUrlOf(loc));
    await serviceClient(address, this.credentialFor(loc, credential), this.options.pipelineOptions).getShareClient(address.shareName).deleteIfExists();
  }

  /** The stored credential, or the platform's identity for a share the platform made without one. */
  private credentialFor(loc: DatasetLocation, credential: string | undefined): string | TokenCredential {
    if (credential !== undefined) return credential;
    const platform = this.options.platformAccount?.credential;
    if (loc.adopted === false && platform !== undefined && typeof platform !== 'string') return platform;
    throw new LedgerflowError('unavailable', 'the dataset credential is missing from the key store');
  }

  private directory(address: ShareAddress, credential: string | TokenCredential): ShareDirectoryClient {
    const share = serviceClient(address, credential, this.options.pipelineOptions).getShareClient(address.shareName);
    return address.directory === '' ? share.rootDirectoryClient : share.getDirectoryClient(address.directory);
  }
}

const location = (shareUrl: string, datasetId: string, adopted: boolean): DatasetLocation => ({
  kind: 'azure-files',
  shareUrl,
  credentialRef: credentialName(datasetId),
  adopted,
});

/** Azure Files refusing or missing what the ledger says exists: the caller can do nothing
 * about it, so 503 with a stable message (the SDK's own error stays in the cause). */
function storageFailure(err: unknown): LedgerflowError {
  const status = typeof err === 'object' && err !== null ? (err as { statusCode?: unknown }).statusCode : undefined;
  if (status === 401 || status === 403) return new LedgerflowError('unavailable', 'the dataset storage refused the stored credential', { cause: err });
  if (status === 404) return new LedgerflowError('unavailable', 'the dataset storage no longer has this dataset', { cause: err });
  return new LedgerflowError('unavailable', 'the dataset storage is not reachable', { cause: err });
}

function shareUrlOf(loc: DatasetLocation): string {
  if (loc.kind !== 'azure-files') throw new LedgerflowError('internal', `Azure Files storage got a ${loc.kind} location`);
  return loc.shareUrl;
}

function assertFiles(files: Record<string, string>): void {
  const problems = fileMapProblems(files);
  if (problems.length > 0) throw validationError('invalid file paths', problems);
}

/** Creates each file's directories (one level at a time, as Azure Files requires) and uploads it. */
async function upload(root: ShareDirectoryClient, files: Record<string, string>): Promise<void> {
  const made = new Set<string>();
  for (const [path, content] of Object.entries(files)) {
    const segments = path.split('/');
    let dir = root;
    for (let i = 0; i < segments.length - 1; i++) {
      dir = dir.getDirectoryClient(segments[i]!);
      const key = segments.slice(0, i + 1).join('/');
      if (!made.has(key)) {
        await dir.createIfNotExists();
        made.add(key);
      }
    }
    await dir.getFileClient(segments[segments.length - 1]!).uploadData(Buffer.from(content, 'utf8'));
  }
}

/** A client for the account: SAS token, account key, or (for the platform's own account) an
 * Entra identity, which Azure Files accepts only with the backup request intent. */
function serviceClient(address: ShareAddress, credential: string | TokenCredential, options: ShareClientOptions = {}): ShareServiceClient {
  if (typeof credential !== 'string') {
    return new ShareServiceClient(address.serviceUrl, credential, { ...options, fileRequestIntent: 'backup' });
  }
  if (isSasToken(credential)) {
    return new ShareServiceClient(`${address.serviceUrl}?${credential.replace(/^\?/, '')}`, new AnonymousCredential(), options);
  }
  return new ShareServiceClient(address.serviceUrl, new StorageSharedKeyCredential(address.accountName, credential), options);
}
