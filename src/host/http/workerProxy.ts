import type { IncomingHttpHeaders, Server, ServerResponse } from 'node:http';

/** Response headers that belong to one connection, not to the response (RFC 9110 7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);
const INVOCATION_ID_HEADER = 'x-ms-invocation-id';

/**
 * What the worker's proxy reads of a forwarded request: the invocation id and forwarded
 * host/proto headers, method, URL, and the body as a stream. The programming model hands the
 * request object itself to a WHATWG Request as its body: a web stream is taken as it is,
 * where a node:stream Readable is wrapped in an async iterator and a second stream (in a
 * freshly started host, running that adapter's code cost about 90 µs a request: half the
 * request object's cost, which showed in the lease race).
 */
interface ForwardedRequest extends ReadableStream<Uint8Array> {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Errors the stream: a reader still reading sees the body cut, as over a socket (the
   * chunks not read yet are dropped; a body already read to its end stays read). */
  cut(reason: Error): void;
}

/** A plain ReadableStream given the request's fields (a subclass of it cost node's
 * stream constructor more: ~10% of making and reading one). */
function forwardedRequest(method: string, url: string, headers: IncomingHttpHeaders, body: Buffer): ForwardedRequest {
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  // start runs within the constructor, so the whole body is queued before anyone reads.
  const stream = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  const c = controller as ReadableStreamDefaultController<Uint8Array>;
  // A copy: a small body is a view into node's shared Buffer pool, whose other bytes (other
  // requests' bodies among them) a function reading the stream could reach through `.buffer`.
  if (body.length > 0) c.enqueue(new Uint8Array(body));
  c.close();
  return Object.assign(stream, { method, url, headers, cut: (reason: Error) => c.error(reason) });
}

/** What the worker's proxy writes a function's response to (the part of ServerResponse it
 * uses: statusCode, setHeader, write, end), passed on to the client's response as it comes:
 * a streamed body stays streamed. */
class ForwardedResponse {
  statusCode = 200;
  readonly #headers = new Map<string, { name: string; value: string | string[] }>();
  /** Set once the host answered for itself (the invocation failed): the worker's writes,
   * if any still come, go nowhere. */
  detached = false;

  constructor(private readonly res: ServerResponse) {}

  setHeader(name: string, value: number | string | readonly string[]): this {
    this.#headers.set(name.toLowerCase(), { name, value: typeof value === 'number' ? String(value) : typeof value === 'string' ? value : [...value] });
    return this;
  }

  write(chunk: string | Uint8Array): boolean {
    if (!this.#open()) return false;
    return this.res.write(chunk);
  }

  end(chunk?: string | Uint8Array): this {
    if (this.#open()) this.res.end(chunk);
    return this;
  }

  /** Sends the status and headers before the first chunk; false once the client is gone or
   * the host answered for itself. */
  #open(): boolean {
    if (this.detached || this.res.destroyed || this.res.writableEnded) return false;
    if (!this.res.headersSent) {
      const out: Record<string, string | string[]> = {};
      for (const [lower, { name, value }] of this.#headers) {
        if (!HOP_BY_HOP.has(lower) && lower !== INVOCATION_ID_HEADER) out[name] = value;
      }
      this.res.writeHead(this.statusCode, out);
    }
    return true;
  }
}

export interface ForwardOptions {
  readonly invocationId: string;
  readonly method: string;
  /** Path and query, as the client sent them. */
  readonly url: string;
  /** The client's headers without the platform's identity headers. */
  readonly headers: Record<string, string>;
  /** The host as the client named it, for the worker's `x-forwarded-host`. */
  readonly host: string;
  readonly body: Buffer;
}

/**
 * Hands one request to the worker's HTTP proxy (app.setup({ enableHttpStream: true })) the
 * way the Functions host does over the network: a request carrying the invocation's id and
 * x-forwarded-host/-proto, the function's response read back from the proxy's response. The
 * worker runs in this process, so the request is given to the proxy's server as its
 * `request` event instead of over a loopback connection: the request is parsed once and no
 * connection is opened per request, and the app sees the same request either way.
 *
 * Resolves when the response has been written to the client; rejects if the client goes
 * away first. `detach()` stops the worker's later writes (the host answered for itself).
 */
export function forwardToWorker(proxy: Server, res: ServerResponse, options: ForwardOptions): { done: Promise<void>; detach(): void } {
  const request = forwardedRequest(
    options.method,
    options.url,
    {
      ...options.headers,
      [INVOCATION_ID_HEADER]: options.invocationId,
      'x-forwarded-host': options.host,
      'x-forwarded-proto': 'http',
      'content-length': String(options.body.length),
    },
    options.body,
  );
  const response = new ForwardedResponse(res);
  const done = new Promise<void>((resolve, reject) => {
    res.once('finish', resolve);
    res.once('close', () => {
      if (res.writableFinished) return;
      // The client went away: a function still reading the body sees it cut, as over a socket.
      const gone = new Error('the client closed the connection');
      request.cut(gone);
      reject(gone);
    });
  });
  proxy.emit('request', request, response);
  return {
    done,
    detach: () => {
      response.detached = true;
    },
  };
}
