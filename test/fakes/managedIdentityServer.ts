import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

/**
 * The App Service managed identity endpoint (IDENTITY_ENDPOINT + IDENTITY_HEADER, API version
 * 2019-08-01) that @azure/identity's ManagedIdentityCredential calls inside a Function App:
 * it hands out a fixed token for any resource and records which resources were asked for.
 */
export class FakeManagedIdentityServer {
  readonly header = randomBytes(12).toString('hex');
  readonly resources: string[] = [];
  private constructor(
    private readonly server: Server,
    private readonly token: string,
  ) {}

  static async start(token: string): Promise<FakeManagedIdentityServer> {
    const server = createServer();
    const fake = new FakeManagedIdentityServer(server, token);
    server.on('request', (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const resource = url.searchParams.get('resource');
      if (req.headers['x-identity-header'] !== fake.header || resource === null) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'invalid_request', error_description: 'missing header or resource' }));
        return;
      }
      fake.resources.push(resource);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          access_token: fake.token,
          expires_on: String(Math.floor(Date.now() / 1000) + 3600),
          resource,
          token_type: 'Bearer',
        }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  /** The environment a Function App gets for its managed identity. */
  env(): Record<string, string> {
    return { IDENTITY_ENDPOINT: `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/msi/token`, IDENTITY_HEADER: this.header };
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
