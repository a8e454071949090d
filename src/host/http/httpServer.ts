import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../observability/logger';
import type { HttpMountHandler } from '../extension';
import { HostConfigError } from '../config/hostConfigError';
import { writeJsonError } from './jsonError';
import { toLedgerflowError } from '../../core/errors';

interface Mount {
  readonly prefix: string;
  readonly handler: HttpMountHandler;
  /** Not counted as work in flight: the operator's admin route, which itself waits for the
   * work in flight to end (a backup). */
  readonly untracked?: boolean;
}

/** Connections the kernel queues while the event loop is busy (capped by net.core.somaxconn).
 * Node's default of 511 overflowed under 2,000 clients connecting at once, and the clients whose
 * handshakes were dropped then saw ECONNRESET instead of a slower answer. */
const LISTEN_BACKLOG = 4096;

/** The host's one node:http server: dispatches by path prefix to what extensions mounted
 * (the app's routes under `/api`, the durable API under `/runtime/...`). */
export class HttpServer {
  readonly #server: Server;
  #mounts: Mount[] = [];
  #closing = false;
  /** False from listen() until every extension has started (see ready()). */
  #ready = false;

  constructor(
    private readonly logger: Logger,
    private readonly track: <T>(work: Promise<T>) => Promise<T>,
  ) {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    // Kestrel's default, as the Azure Functions host keeps an idle connection. Node's 5 s let
    // the server close a connection while a client (undici keeps one for the hint less 2 s)
    // sent on it after a stall, and a POST on it failed with no answer; clients close first
    // now. Idle connections are closed when the host stops accepting (stopAccepting), so no shutdown waits for them.
    this.#server.keepAliveTimeout = 130_000;
  }

  mount(prefix: string, handler: HttpMountHandler, options: { untracked?: boolean } = {}): void {
    const normalized = '/' + prefix.replace(/^\/+|\/+$/g, '');
    if (this.#mounts.some((m) => m.prefix.toLowerCase() === normalized.toLowerCase())) {
      throw new Error(`HTTP path prefix ${normalized} is already mounted`);
    }
    this.#mounts = [...this.#mounts, { prefix: normalized, handler, ...options }].sort((a, b) => b.prefix.length - a.prefix.length);
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        if (err.code === 'EADDRINUSE') reject(new HostConfigError(`port ${port} on ${host} is already in use (set PORT)`));
        else if (err.code === 'EADDRNOTAVAIL') reject(new HostConfigError(`cannot listen on address ${host} (set LEDGERFLOW_BIND_ADDRESS)`));
        else reject(err);
      };
      this.#server.once('error', onError);
      this.#server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
        this.#server.off('error', onError);
        resolve(this.#server.address() as AddressInfo);
      });
    });
  }

  /** Opens the gate: until then every request is answered 503 `starting` with Retry-After.
   * The port opens earlier because extensions need the host's address to start (the durable
   * client's URLs); a client that connects at once is told to retry, never sent to a route
   * whose extension is not there yet. */
  ready(): void {
    this.#ready = true;
  }

  /** While set, new requests under these prefixes are answered 503 with Retry-After (the
   * host pauses new work for a backup; other mounts, such as the durable client's, still
   * serve the work in flight). */
  pausedPrefixes: readonly string[] = [];

  /** Stops accepting connections; requests already running finish. */
  stopAccepting(): void {
    this.#closing = true;
    this.#server.close();
    this.#server.closeIdleConnections();
  }

  closeAllConnections(): void {
    this.#server.closeAllConnections();
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.#closing) {
      writeJsonError(res, 503, 'unavailable', 'the host is shutting down', { connection: 'close' });
      return;
    }
    if (!this.#ready) {
      // `status` as /api/health reports it, for probes that read only that field.
      writeJsonError(res, 503, 'unavailable', 'the host is starting; retry shortly', { 'retry-after': '1' }, { status: 'starting' });
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      writeJsonError(res, 400, 'bad_request', 'malformed request URL');
      return;
    }
    const path = url.pathname.toLowerCase();
    const mount = this.#mounts.find((m) => m.prefix === '/' || path === m.prefix.toLowerCase() || path.startsWith(m.prefix.toLowerCase() + '/'));
    if (!mount) {
      writeJsonError(res, 404, 'not_found', `no route matches ${url.pathname}`);
      return;
    }
    if (this.pausedPrefixes.some((p) => path === p || path.startsWith(p + '/'))) {
      writeJsonError(res, 503, 'unavailable', 'the host is paused for a backup; retry shortly', { 'retry-after': '1' });
      return;
    }
    try {
      const handled = Promise.resolve(mount.handler(req, res, url));
      await (mount.untracked === true ? handled : this.track(handled));
    } catch (err) {
      // The mount, not the path: the durable API's paths can hold its rpc secret.
      this.logger.error({ err, mount: mount.prefix }, 'HTTP handler failed');
      // A full disk is the caller's 507, like anywhere else; the rest stays a bare 500.
      const e = toLedgerflowError(err);
      writeJsonError(res, e.httpStatus, e.code, e.message);
    }
  }
}
