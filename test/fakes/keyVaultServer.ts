import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import type { HttpClient } from '@azure/core-rest-pipeline';
import { loopbackHttpClient, selfSignedCertificate } from './selfSignedCert';

/**
 * A Key Vault data-plane fake over HTTPS that the real @azure/keyvault-secrets SecretClient
 * talks to: challenge-based auth (401 + WWW-Authenticate, then a bearer token), set/get
 * secret, soft delete, get deleted, purge, and a purge-protection switch. Vaults are
 * `https://<name>.vault.test:<port>`; `agent()` resolves every *.vault.test host to the
 * loopback and trusts the self-signed certificate, as a custom DNS + CA would.
 */
const RESOURCE = 'https://vault.test';
export const FAKE_KEY_VAULT_TOKEN = 'fake-key-vault-token';

interface Secret {
  value: string;
  version: string;
  created: number;
}
interface Vault {
  secrets: Map<string, Secret>;
  deleted: Map<string, Secret & { deletedDate: number }>;
}

export class FakeKeyVaultServer {
  purgeProtection = false;
  /** Requests seen, as `METHOD path` (never bodies), for assertions. */
  readonly requests: string[] = [];
  private readonly vaults = new Map<string, Vault>();
  private constructor(
    private readonly server: Server,
    private readonly ca: string,
  ) {}

  static async start(): Promise<FakeKeyVaultServer> {
    const cert = await selfSignedCertificate(['*.vault.test', 'localhost']);
    const server = createServer({ cert: cert.certPem, key: cert.keyPem });
    const fake = new FakeKeyVaultServer(server, cert.certPem);
    server.on('request', (req, res) => fake.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }
  /** The self-signed CA certificate (PEM), e.g. for NODE_EXTRA_CA_CERTS of a host process. */
  get caCertPem(): string {
    return this.ca;
  }
  vaultUrl(name: string): string {
    return `https://${name}.vault.test:${this.port}`;
  }

  /** What the vault holds for a secret: live, soft-deleted, or nothing (purged). */
  state(vault: string, name: string): 'live' | 'deleted' | 'absent' {
    const v = this.vaults.get(vault);
    if (v?.secrets.has(name)) return 'live';
    if (v?.deleted.has(name)) return 'deleted';
    return 'absent';
  }

  /** Every secret value held (live or deleted), for leak checks. */
  allValues(): string[] {
    return [...this.vaults.values()].flatMap((v) => [...v.secrets.values(), ...v.deleted.values()].map((s) => s.value));
  }

  /** An HttpClient for SecretClientOptions that reaches this fake. */
  httpClient(): HttpClient {
    return loopbackHttpClient(this.ca);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private vault(host: string): Vault {
    const name = host.split('.')[0]!;
    let v = this.vaults.get(name);
    if (v === undefined) {
      v = { secrets: new Map(), deleted: new Map() };
      this.vaults.set(name, v);
    }
    return v;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'https://x');
      this.requests.push(`${req.method} ${url.pathname}`);
      const send = (status: number, body?: unknown) => {
        res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' });
        res.end(body === undefined ? undefined : JSON.stringify(body));
      };
      const error = (status: number, code: string, message: string) => send(status, { error: { code, message } });
      if (!url.searchParams.get('api-version')) return error(400, 'BadParameter', 'api-version is required');
      if (req.headers.authorization !== `Bearer ${FAKE_KEY_VAULT_TOKEN}`) {
        res.setHeader('WWW-Authenticate', `Bearer authorization="https://login.test/72f988bf-0000-0000-0000-000000000000", resource="${RESOURCE}"`);
        return error(401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.');
      }
      const host = (req.headers.host ?? '').split(':')[0] ?? '';
      const base = `https://${req.headers.host}`;
      const vault = this.vault(host);
      const now = Math.floor(Date.now() / 1000);
      const bundle = (name: string, s: Secret) => ({
        value: s.value,
        id: `${base}/secrets/${name}/${s.version}`,
        attributes: {
          enabled: true,
          created: s.created,
          updated: s.created,
          recoveryLevel: this.purgeProtection ? 'Recoverable' : 'Recoverable+Purgeable',
          recoverableDays: 90,
        },
      });
      const deletedBundle = (name: string, s: Secret & { deletedDate: number }) => ({
        ...bundle(name, s),
        recoveryId: `${base}/deletedsecrets/${name}`,
        deletedDate: s.deletedDate,
        scheduledPurgeDate: s.deletedDate + 90 * 86400,
      });
      let m: RegExpMatchArray | null;
      if ((m = url.pathname.match(/^\/secrets\/([0-9a-zA-Z-]{1,127})\/?([0-9a-f]*)$/))) {
        const name = m[1]!;
        if (req.method === 'PUT') {
          if (vault.deleted.has(name))
            return error(
              409,
              'Conflict',
              `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
            );
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { value?: unknown };
          if (typeof body.value !== 'string') return error(400, 'BadParameter', 'value is required');
          const secret = { value: body.value, version: randomBytes(16).toString('hex'), created: now };
          vault.secrets.set(name, secret);
          return send(200, bundle(name, secret));
        }
        const secret = vault.secrets.get(name);
        if (req.method === 'GET') {
          if (secret === undefined || (m[2] && m[2] !== secret.version))
            return error(404, 'SecretNotFound', `A secret with (name/id) ${name} was not found in this key vault.`);
          return send(200, bundle(name, secret));
        }
        if (req.method === 'DELETE') {
          if (secret === undefined) return error(404, 'SecretNotFound', `A secret with (name/id) ${name} was not found in this key vault.`);
          vault.secrets.delete(name);
          const deleted = { ...secret, deletedDate: now };
          vault.deleted.set(name, deleted);
          return send(200, deletedBundle(name, deleted));
        }
      } else if ((m = url.pathname.match(/^\/deletedsecrets\/([0-9a-zA-Z-]{1,127})$/))) {
        const name = m[1]!;
        const deleted = vault.deleted.get(name);
        if (deleted === undefined) return error(404, 'SecretNotFound', `Deleted Secret not found: ${name}`);
        if (req.method === 'GET') return send(200, deletedBundle(name, deleted));
        if (req.method === 'DELETE') {
          if (this.purgeProtection)
            return error(
              403,
              'Forbidden',
              'Operation "purge" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed.',
            );
          vault.deleted.delete(name);
          return send(204);
        }
      }
      return error(405, 'MethodNotAllowed', `${req.method} ${url.pathname} is not supported by this fake`);
    });
  }
}

/** A TokenCredential that hands out the fake's token, as a managed identity would a real one. */
export class FakeTokenCredential implements TokenCredential {
  readonly scopesAsked: string[] = [];
  async getToken(scopes: string | string[]): Promise<AccessToken> {
    this.scopesAsked.push(...(Array.isArray(scopes) ? scopes : [scopes]));
    return { token: FAKE_KEY_VAULT_TOKEN, expiresOnTimestamp: Date.now() + 3600_000 };
  }
}
