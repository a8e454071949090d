import { Agent, request } from 'node:http';

/** What a bench request gets back: the status and the whole body as text. */
export interface LoadResponse {
  readonly status: number;
  readonly text: string;
  /** The body parsed as JSON ({} for an empty body). */
  json<T>(): T;
}

export interface LoadRequest {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/**
 * The benches' load generator: node:http over kept-alive connections, as a load tool such as
 * wrk or autocannon sends, not fetch. The client shares the machine's two cores with the host
 * it measures, and fetch (undici, WHATWG streams and Headers) costs 0.3-0.4 ms of CPU a
 * request here against ~0.1 ms for node:http: in the chains and lease-race rows that was more
 * CPU than the host's own work per request, taken from the host being measured.
 */
export class HttpLoad {
  // Every connection a burst opened stays open for the next: node's default keeps 256 idle,
  // so each round of 300 concurrent chain starts closed 44 connections and opened 44 anew
  // (the host accepting and tearing down sockets a load tool with a fixed pool never makes).
  readonly #agent = new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: Infinity });

  send(url: string, init: LoadRequest = {}): Promise<LoadResponse> {
    return new Promise((resolve, reject) => this.#attempt(url, init, resolve, reject));
  }

  #attempt(url: string, init: LoadRequest, resolve: (r: LoadResponse) => void, reject: (e: unknown) => void): void {
    const headers: Record<string, string | number> = { ...init.headers };
    if (init.body !== undefined) headers['content-length'] = Buffer.byteLength(init.body);
    const req = request(url, { method: init.method ?? 'GET', headers, agent: this.#agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, json: <T>() => (text === '' ? {} : JSON.parse(text)) as T }));
      res.on('error', reject);
    });
    // A kept-alive connection the server closed just as this request went out on it: the
    // request did not reach the host, so it is sent again (as node:http's docs advise). Again
    // each time: when a bench phase without HTTP (a baseline) outlasts the server's keep-alive
    // timeout, every pooled connection is stale, and the next may be too (a 300-chain round
    // failed with "socket hang up" at load 16). A fresh connection is never retried.
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (req.reusedSocket && err.code === 'ECONNRESET') this.#attempt(url, init, resolve, reject);
      else reject(err);
    });
    req.end(init.body);
  }

  /** A call of the platform's API at `host` (`/api` + `path`) as `token`'s holder, with a JSON body. */
  api(host: string, token: string, method: string, path: string, body?: unknown): Promise<LoadResponse> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body === undefined) return this.send(`${host}/api${path}`, { method, headers });
    return this.send(`${host}/api${path}`, { method, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  close(): void {
    this.#agent.destroy();
  }
}
