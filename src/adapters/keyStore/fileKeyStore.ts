import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ORG_NAME as ORG } from '../../core/names';
import { LedgerflowError } from '../../core/errors';
import { sealBytes, unsealBytes } from '../../core/crypto/seal';
import { assertSecretName } from '../../core/secretNames';
import type { KeyStore, KeyStores } from '../../ports/keyStore';
import { createOnce, writeFileAtomic } from '../../fs/atomicFile';

/**
 * The local key store: one file per organization under `<dataDir>/keystore/`, holding the
 * org's secrets as one AES-256-GCM sealed JSON object (associated data: the org), under a
 * master key created from the CSPRNG on first start. Files and the master key are mode
 * 0600 in a 0700 directory. Destroy rewrites the file without the value, so it is gone
 * (purged) once the rename lands; there is no soft-delete here.
 *
 * Writes within one process are serialized per org; one process owns a data dir.
 */
const secretsSchema = z.record(z.string(), z.string());

export class FileKeyStores implements KeyStores {
  readonly kind = 'file' as const;
  private readonly stores = new Map<string, FileKeyStore>();
  private constructor(
    private readonly dir: string,
    private readonly masterKey: string,
  ) {}

  /** Opens (creating on first start) the key store directory and master key. */
  static async open(dataDir: string): Promise<FileKeyStores> {
    const dir = join(dataDir, 'keystore');
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    await fs.chmod(dir, 0o700);
    const masterPath = join(dir, 'master.key');
    const candidate = Buffer.from(randomBytes(32).toString('base64url'), 'utf8');
    const master = createOnce(masterPath, candidate).toString('utf8').trim();
    if (Buffer.from(master, 'base64url').length !== 32) {
      throw new LedgerflowError('internal', `key store master key at ${masterPath} is not 256 bits of base64url`);
    }
    return new FileKeyStores(dir, master);
  }

  forOrg(org: string): KeyStore {
    if (!ORG.test(org)) throw new LedgerflowError('bad_request', `invalid organization name for the key store`);
    let store = this.stores.get(org);
    if (store === undefined) {
      store = new FileKeyStore(join(this.dir, `${org}.secrets`), this.masterKey, `keystore:${org}`);
      this.stores.set(org, store);
    }
    return store;
  }
}

class FileKeyStore implements KeyStore {
  private queue: Promise<unknown> = Promise.resolve();
  constructor(
    private readonly path: string,
    private readonly masterKey: string,
    private readonly aad: string,
  ) {}

  async set(name: string, value: string): Promise<void> {
    assertSecretName(name);
    return this.exclusive(async () => {
      const secrets = await this.read();
      secrets[name] = value;
      await this.write(secrets);
    });
  }

  async get(name: string): Promise<string | undefined> {
    assertSecretName(name);
    return this.exclusive(async () => (await this.read())[name]);
  }

  async destroy(name: string): Promise<{ purged: boolean; reason?: string }> {
    assertSecretName(name);
    return this.exclusive(async () => {
      const secrets = await this.read();
      if (name in secrets) {
        delete secrets[name];
        await this.write(secrets);
      }
      return { purged: true };
    });
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async read(): Promise<Record<string, string>> {
    let sealed: string;
    try {
      sealed = await fs.readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Object.create(null) as Record<string, string>;
      throw err;
    }
    const parsed = secretsSchema.parse(JSON.parse(unsealBytes(sealed.trim(), this.masterKey, this.aad).toString('utf8')));
    return Object.assign(Object.create(null) as Record<string, string>, parsed);
  }

  private async write(secrets: Record<string, string>): Promise<void> {
    const sealed = sealBytes(Buffer.from(JSON.stringify(secrets), 'utf8'), this.masterKey, this.aad);
    await writeFileAtomic(this.path, Buffer.from(sealed, 'utf8'));
  }
}
