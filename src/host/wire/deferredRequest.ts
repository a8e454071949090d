import type { RpcHttpData } from './rpcTypes';

/**
 * The native request behind `@azure/functions`' HttpRequest, made only when something needs
 * it. The model wraps every HTTP trigger in an undici `Request` (an AbortSignal, a Headers
 * list, the body copied into a web stream) and `request.json()` reads it back through that
 * stream: ~0.1 ms of the host's main thread per call, most of an HTTP start's share of the
 * model (docs/durable.md, "Through the embedded host"). A handler that only reads the body
 * as JSON or text, and the URL (which the model reads for `query`), gets what undici gives
 * (the same UTF-8 decoding, byte-order marks dropped as undici drops them, the same
 * JSON.parse errors, `bodyUsed` set); anything else it touches (headers, method, the body
 * stream, another reader, `clone`) is answered by the real `Request`, built then exactly as
 * the model builds it, its body already consumed when it was read here.
 * test/unit/host/deferredRequest.test.ts compares both through the real library.
 */
export class DeferredRequest {
  #request: Request | undefined;
  /** The body was read here (never set without a body: undici's `bodyUsed` stays false then). */
  #consumed = false;

  private constructor(
    readonly url: string,
    private readonly init: { readonly method: string; readonly headers: Record<string, string>; readonly body: Buffer | undefined },
  ) {}

  /** The deferred request for an HTTP trigger, or undefined when undici's constructor could
   * refuse it (the model must then build it, and fail the invocation as it would). */
  static of(http: RpcHttpData): DeferredRequest | undefined {
    const { method, url, headers } = http;
    if (typeof method !== 'string' || typeof url !== 'string' || !SAFE_METHOD.test(method)) return undefined;
    // A URL with credentials is refused by undici; a bodiless method's body is dropped by the model, with a warning.
    if (HAS_USERINFO.test(url)) return undefined;
    const bytes = http.body?.bytes;
    const body = bytes !== null && bytes !== undefined ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : undefined;
    if (body !== undefined && (Object.keys(http.body ?? {}).length !== 1 || NO_BODY_METHOD.test(method))) return undefined;
    if (body === undefined && http.body !== undefined && http.body !== null) return undefined;
    const plain: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers ?? {})) {
      if (typeof value !== 'string' || !TOKEN.test(name) || FORBIDDEN_IN_VALUE.test(value)) return undefined;
      plain[name] = value;
    }
    return new DeferredRequest(url, { method, headers: plain, body });
  }

  /** The request the model would have made (`new Request(url, { body, method, headers })`). */
  #real(): Request {
    if (this.#request === undefined) {
      const { method, headers, body } = this.init;
      this.#request = new Request(this.url, { method, headers, body: body === undefined ? undefined : Buffer.from(body) });
      // Read here already: the real body is consumed too, so it is used and locked as it would be.
      if (this.#consumed) this.#request.arrayBuffer().catch(() => undefined);
    }
    return this.#request;
  }

  get method(): string {
    return this.#real().method;
  }

  get headers(): Headers {
    return this.#real().headers;
  }

  get body(): Request['body'] {
    return this.#real().body;
  }

  get bodyUsed(): boolean {
    return this.#request === undefined ? this.#consumed : this.#request.bodyUsed;
  }

  text(): Promise<string> {
    return this.#ownText() ?? this.#real().text();
  }

  json(): Promise<unknown> {
    const text = this.#ownText();
    return text === undefined ? this.#real().json() : text.then(JSON.parse);
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return this.#real().arrayBuffer();
  }

  blob(): Promise<Blob> {
    return this.#real().blob();
  }

  formData(): Promise<FormData> {
    return this.#real().formData();
  }

  clone(): Request {
    return this.#real().clone();
  }

  /** undici's `utf8DecodeBytes` of the body, or undefined when the real request must answer
   * (it exists, or the body was read already: undici's "Body is unusable"). */
  #ownText(): Promise<string> | undefined {
    if (this.#request !== undefined || this.#consumed) return undefined;
    const { body } = this.init;
    if (body === undefined) return Promise.resolve('');
    this.#consumed = true;
    // undici drops a leading BOM itself and then decodes with a TextDecoder that drops one more.
    return Promise.resolve(body.length === 0 ? '' : decoder.decode(hasBom(body) ? body.subarray(3) : body));
  }
}

const decoder = new TextDecoder();
const hasBom = (b: Buffer): boolean => b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;

/** Methods undici takes as they are (upper case, not forbidden). */
const SAFE_METHOD = /^(?:GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)$/;
const NO_BODY_METHOD = /^(?:GET|HEAD)$/;
/** An `@` in the authority: user info, which undici's Request refuses. */
const HAS_USERINFO = /^[^:/?#]+:\/\/[^/?#]*@/;
/** A header name undici's Headers takes (RFC 9110 token). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What undici's Headers refuses in a value (after trimming). */
const FORBIDDEN_IN_VALUE = /[\0\r\n]/;
