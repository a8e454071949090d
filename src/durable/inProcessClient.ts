import { STATUS_CODES } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { LedgerflowError } from '../core/errors';
import { whenLoaded } from '../loading/onDemand';
import type { DurableApiRequest, DurableApiResponse } from './httpApi';

/**
 * The app's DurableClient (the durable-functions SDK) sends every operation to the
 * binding's `rpcBaseUrl` with axios: on Azure, an HTTP call from the worker process to
 * the Durable extension in the host process. Here worker and host are one process, so
 * those calls are answered in process by the management API's own handler: the same
 * routes, authorization (the rpc secret in the path), status codes, headers and body
 * text, without a loopback connection and HTTP parsing at both ends (a start cost the
 * host ~0.5 ms of CPU that way). The SDK and the app see axios answer as it would.
 *
 * Only requests whose URL starts with `rpcBaseUrl` and which use nothing this answer does
 * not reproduce (query params object, timeouts, cancellation, size limits, binary or
 * streamed bodies) are taken; every other request of that axios goes to the adapter it had.
 */

/** The parts of axios's request config that decide whether a request is taken. */
interface AxiosConfig {
  readonly url?: unknown;
  readonly baseURL?: unknown;
  readonly method?: unknown;
  readonly data?: unknown;
  readonly headers?: unknown;
  readonly params?: unknown;
  readonly responseType?: unknown;
  readonly timeout?: unknown;
  readonly signal?: unknown;
  readonly cancelToken?: unknown;
  readonly maxContentLength?: unknown;
  readonly maxBodyLength?: unknown;
  readonly socketPath?: unknown;
  readonly onUploadProgress?: unknown;
  readonly onDownloadProgress?: unknown;
  readonly validateStatus?: ((status: number) => boolean) | null;
}

interface AxiosResponse {
  data: string;
  status: number;
  statusText: string;
  headers: Record<string, string>;
  config: AxiosConfig;
  request: undefined;
}

type Adapter = (config: AxiosConfig) => Promise<unknown>;

/** The axios module the SDK loaded (axios >= 1.6: `getAdapter`, `AxiosError`). */
interface AxiosModule {
  defaults: { adapter?: unknown };
  getAdapter(adapter: unknown, config?: AxiosConfig): Adapter;
  AxiosError: (new (message: string, code: string, config: AxiosConfig, request: undefined, response: AxiosResponse) => Error) & {
    ERR_BAD_REQUEST: string;
    ERR_BAD_RESPONSE: string;
  };
}

/** A file of a loaded durable-functions SDK; group 1 is its package directory. */
const SDK_FILE = /^(.*[\\/]durable-functions)[\\/]lib[\\/]src[\\/]/;

/** The package directories of the durable-functions SDKs loaded so far. */
function sdkPackages(): string[] {
  const packages = new Set<string>();
  for (const file of Object.keys(require.cache)) {
    const m = SDK_FILE.exec(file);
    if (m) packages.add(m[1] as string);
  }
  return [...packages];
}

/** The SDK's client half (DurableClient.js and its axios): src/loading may defer it to the
 * first `df.getClient`, which makes every DurableClient. */
const clientFile = (dir: string): string => join(dir, 'lib', 'src', 'durableClient', 'getClient.js');

/** The axios the SDK in `dir` uses, resolved as its DurableClient.js's `require('axios')` is. */
function sdkAxios(dir: string): AxiosModule | undefined {
  try {
    const axios = createRequire(join(dir, 'lib', 'src', 'durableClient', 'DurableClient.js'))('axios') as Partial<AxiosModule> & {
      default?: Partial<AxiosModule>;
    };
    const mod = (axios.default ?? axios) as Partial<AxiosModule>;
    if (typeof mod.getAdapter === 'function' && typeof mod.AxiosError === 'function' && mod.defaults) return mod as AxiosModule;
  } catch {
    // An SDK copy without a resolvable axios keeps talking HTTP.
  }
  return undefined;
}

const unlimited = (v: unknown): boolean => v === undefined || v === null || v === -1 || v === Infinity;

/** Whether `config` is a request this answer reproduces exactly. */
function takes(config: AxiosConfig, rpcBaseUrl: string): config is AxiosConfig & { url: string } {
  return (
    typeof config.url === 'string' &&
    config.url.startsWith(rpcBaseUrl) &&
    (config.data === undefined || config.data === null || typeof config.data === 'string') &&
    (config.params === undefined || config.params === null) &&
    (config.responseType === undefined || config.responseType === 'json' || config.responseType === 'text') &&
    !config.timeout &&
    config.signal === undefined &&
    config.cancelToken === undefined &&
    config.socketPath === undefined &&
    config.onUploadProgress === undefined &&
    config.onDownloadProgress === undefined &&
    unlimited(config.maxContentLength) &&
    unlimited(config.maxBodyLength)
  );
}

/** Header values by lower-case name; axios gives an AxiosHeaders (its toJSON is the plain map). */
function headersOf(config: AxiosConfig, host: string): Record<string, string | string[] | undefined> {
  const raw = config.headers as { toJSON?: () => unknown } | Record<string, unknown> | undefined;
  const plain = (typeof raw?.toJSON === 'function' ? raw.toJSON() : (raw ?? {})) as Record<string, unknown>;
  const headers: Record<string, string | string[] | undefined> = { host };
  for (const [name, value] of Object.entries(plain)) {
    if (typeof value === 'string') headers[name.toLowerCase()] = value;
    else if (typeof value === 'number' || typeof value === 'boolean') headers[name.toLowerCase()] = String(value);
    else if (Array.isArray(value)) headers[name.toLowerCase()] = value.map(String);
  }
  return headers;
}

export interface InProcessClientOptions {
  /** Where the binding data sends the SDK's calls (ends with `/rpc/<secret>/`). */
  readonly rpcBaseUrl: string;
  readonly dispatch: (req: DurableApiRequest) => Promise<DurableApiResponse>;
  /** Once aborted (the host is stopping), calls are answered as the stopping server does. */
  readonly shutdownSignal: AbortSignal;
}

/** An axios the SDK uses, its adapter before ours, and the hosts answering through it. */
interface Installed {
  readonly original: unknown;
  readonly adapter: Adapter;
  readonly hosts: Set<InProcessClientOptions>;
}
const installed = new Map<AxiosModule, Installed>();

/** Adds `options` to the hosts answering through `axios`, installing the adapter on first use. */
function attach(axios: AxiosModule, options: InProcessClientOptions): void {
  let entry = installed.get(axios);
  if (entry === undefined) {
    const hosts = new Set<InProcessClientOptions>();
    const original = axios.defaults.adapter;
    const adapter: Adapter = (config) => {
      for (const host of hosts) if (takes(config, host.rpcBaseUrl)) return answer(axios, host, config);
      return axios.getAdapter(original, config)(config);
    };
    entry = { original, adapter, hosts };
    installed.set(axios, entry);
    axios.defaults.adapter = adapter;
  }
  entry.hosts.add(options);
}

/**
 * Installs the in-process answer on every axios the loaded SDK uses; returns what removes
 * it (the adapter axios had comes back when no host answers through it any more, whatever
 * the order). A no-op when the app loaded no durable-functions. Where the SDK's client half
 * has not loaded yet, the answer is installed when it loads, before its first DurableClient
 * takes axios's adapter: a host whose app makes no client at start does not load axios
 * (about a tenth of a host start).
 */
export function installInProcessClient(options: InProcessClientOptions): () => void {
  const attached: AxiosModule[] = [];
  let removed = false;
  const cancels = sdkPackages().map((dir) =>
    whenLoaded(clientFile(dir), () => {
      const axios = removed ? undefined : sdkAxios(dir);
      if (axios === undefined || attached.includes(axios)) return;
      attach(axios, options);
      attached.push(axios);
    }),
  );
  return () => {
    removed = true;
    for (const cancel of cancels) cancel();
    for (const axios of attached) {
      const entry = installed.get(axios);
      if (entry === undefined || !entry.hosts.delete(options) || entry.hosts.size > 0) continue;
      installed.delete(axios);
      if (axios.defaults.adapter === entry.adapter) axios.defaults.adapter = entry.original;
    }
  };
}

/** One request answered by the host's API handler, settled as axios's own adapters settle theirs. */
async function answer(axios: AxiosModule, host: InProcessClientOptions, config: AxiosConfig & { url: string }): Promise<AxiosResponse> {
  const url = new URL(config.url);
  const body = typeof config.data === 'string' ? config.data : '';
  const reply: DurableApiResponse = host.shutdownSignal.aborted
    ? shuttingDown()
    : await host.dispatch({
        method: typeof config.method === 'string' ? config.method.toUpperCase() : 'GET',
        target: `${url.pathname}${url.search}`,
        headers: headersOf(config, url.host),
        text: async (maxBytes) => {
          if (Buffer.byteLength(body) > maxBytes) throw new LedgerflowError('payload_too_large', 'request body too large');
          return body;
        },
      });
  const response: AxiosResponse = {
    data: reply.text,
    status: reply.status,
    statusText: STATUS_CODES[reply.status] ?? '',
    headers: { ...reply.headers },
    config,
    request: undefined,
  };
  // axios's `settle`.
  const validate = config.validateStatus;
  if (!validate || validate(response.status)) return response;
  const code = response.status >= 400 && response.status < 500 ? axios.AxiosError.ERR_BAD_REQUEST : axios.AxiosError.ERR_BAD_RESPONSE;
  throw new axios.AxiosError(`Request failed with status code ${response.status}`, code, config, undefined, response);
}

/** What the host's HTTP server answers once it stops accepting (src/host/http/httpServer.ts). */
function shuttingDown(): DurableApiResponse {
  const text = JSON.stringify({ error: { code: 'unavailable', message: 'the host is shutting down' } });
  return {
    status: 503,
    headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), connection: 'close' },
    text,
  };
}
