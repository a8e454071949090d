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
  data: unknown;
  status: number;
  statusText: string;
  headers: Record<string, unknown>;
  config: AxiosConfig;
  request: undefined;
}

type Adapter = (config: AxiosConfig) => Promise<unknown>;

/** The axios module the SDK loaded (axios >= 1.6: `getAdapter`, `AxiosError`). */
interface AxiosModule {
  defaults: { adapter?: unknown; transformRequest?: unknown; transformResponse?: unknown };
  getAdapter(adapter: unknown, config?: AxiosConfig): Adapter;
  AxiosHeaders: { from(headers: Record<string, string>): Record<string, unknown> };
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
/** The SDK's DurableClient class (getClient.js requires it). */
const clientClassFile = (dir: string): string => join(dir, 'lib', 'src', 'durableClient', 'DurableClient.js');

/** The axios the SDK in `dir` uses, resolved as its DurableClient.js's `require('axios')` is. */
function sdkAxios(dir: string): AxiosModule | undefined {
  try {
    const axios = createRequire(clientClassFile(dir))('axios') as Partial<AxiosModule> & {
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
  return typeof config.url === 'string' && config.url.startsWith(rpcBaseUrl) && plainBody(config.data) && plainOptions(config);
}

const plainBody = (data: unknown): boolean => data === undefined || data === null || typeof data === 'string';

/** Whether `config` uses nothing this answer does not reproduce, its url and body aside. */
function plainOptions(config: AxiosConfig): boolean {
  return (
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
function headersOf(raw: unknown): Record<string, string | string[] | undefined> {
  const r = raw as { toJSON?: () => unknown } | Record<string, unknown> | undefined;
  const plain = (typeof r?.toJSON === 'function' ? r.toJSON() : (r ?? {})) as Record<string, unknown>;
  const headers: Record<string, string | string[] | undefined> = {};
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
  /** What takes the axios instances of DurableClients made from now on (see `takeClients`). */
  readonly restore: (() => void)[];
}
const installed = new Map<AxiosModule, Installed>();

/** Adds `options` to the hosts answering through `axios`, installing the adapter on first use. */
function attach(axios: AxiosModule, options: InProcessClientOptions, clientClass: unknown): void {
  let entry = installed.get(axios);
  if (entry === undefined) {
    const hosts = new Set<InProcessClientOptions>();
    const original = axios.defaults.adapter;
    const adapter: Adapter = (config) => {
      for (const host of hosts) if (takes(config, host.rpcBaseUrl)) return answer(axios, host, config);
      return axios.getAdapter(original, config)(config);
    };
    entry = { original, adapter, hosts, restore: [] };
    installed.set(axios, entry);
    axios.defaults.adapter = adapter;
  }
  takeClients(axios, entry, clientClass);
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
      attach(axios, options, require.cache[clientClassFile(dir)]?.exports);
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
      for (const restore of entry.restore) restore();
    }
  };
}

/** One request answered by the host's API handler, settled as axios's own adapters settle theirs. */
async function answer(axios: AxiosModule, host: InProcessClientOptions, config: AxiosConfig & { url: string }): Promise<AxiosResponse> {
  const method = typeof config.method === 'string' ? config.method.toUpperCase() : 'GET';
  const reply = await ask(host, method, config.url, headersOf(config.headers), typeof config.data === 'string' ? config.data : '');
  return settle(axios, {
    data: reply.text,
    status: reply.status,
    statusText: STATUS_CODES[reply.status] ?? '',
    headers: { ...reply.headers },
    config,
    request: undefined,
  });
}

/** The API's answer to a request (headers by lower-case name), or the stopping server's. */
async function ask(
  host: InProcessClientOptions,
  method: string,
  target: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
): Promise<DurableApiResponse> {
  if (host.shutdownSignal.aborted) return shuttingDown();
  const url = new URL(target);
  headers['host'] = url.host;
  return host.dispatch({
    method,
    target: `${url.pathname}${url.search}`,
    headers,
    text: async (maxBytes) => {
      if (Buffer.byteLength(body) > maxBytes) throw new LedgerflowError('payload_too_large', 'request body too large');
      return body;
    },
  });
}

/** axios's `settle`: the response, or the AxiosError its status makes. */
function settle(axios: AxiosModule, response: AxiosResponse): AxiosResponse {
  const validate = response.config.validateStatus;
  if (!validate || validate(response.status)) return response;
  const code = response.status >= 400 && response.status < 500 ? axios.AxiosError.ERR_BAD_REQUEST : axios.AxiosError.ERR_BAD_RESPONSE;
  throw new axios.AxiosError(`Request failed with status code ${response.status}`, code, response.config, undefined, response);
}

/** An axios instance as `axios.create` makes it: its methods are its own properties. */
interface AxiosInstance {
  defaults: AxiosConfig & {
    adapter?: unknown;
    baseURL?: unknown;
    auth?: unknown;
    parseReviver?: unknown;
    transformRequest?: unknown;
    transformResponse?: unknown;
    transitional?: { forcedJSONParsing?: unknown };
  };
  interceptors: { request: { handlers?: unknown[] | null }; response: { handlers?: unknown[] | null } };
  get(url: unknown, config?: unknown): Promise<unknown>;
  delete(url: unknown, config?: unknown): Promise<unknown>;
  post(url: unknown, data?: unknown, config?: unknown): Promise<unknown>;
}

const isInstance = (v: unknown): v is AxiosInstance => {
  const i = v as Partial<AxiosInstance> | undefined;
  return (
    typeof i?.get === 'function' &&
    typeof i.post === 'function' &&
    typeof i.delete === 'function' &&
    typeof i.defaults === 'object' &&
    typeof i.interceptors === 'object'
  );
};
const noHandlers = (h: unknown[] | null | undefined): boolean => !h || h.every((x) => x === null || x === undefined);
const sameSteps = (a: unknown, b: unknown): boolean =>
  a === b || (Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((f, i) => f === b[i]));

/**
 * The SDK's DurableClient sends every operation through its own axios instance, whose
 * pipeline (merging the config with the defaults, AxiosHeaders, the request and response
 * transforms, promise steps) cost the host more than the answer itself (a third of an HTTP
 * start's `startNew`). From now on, the instance a DurableClient makes for itself answers
 * the calls the SDK makes (`get`, `delete`, `post` with at most `headers`) straight from the
 * API handler, with what axios would have given: the same request reaches the API (method,
 * target, headers, the body as axios's JSON transform sends it) and the same response comes
 * back (status, AxiosHeaders, the body parsed as axios parses it, validateStatus). Any other
 * call, or an instance someone changed (interceptors, another adapter or transform), goes
 * through axios as before.
 */
function takeClients(axios: AxiosModule, entry: Installed, clientClass: unknown): void {
  const proto = (clientClass as { DurableClient?: { prototype?: object } } | undefined)?.DurableClient?.prototype;
  if (proto === undefined || typeof axios.AxiosHeaders?.from !== 'function' || Object.prototype.hasOwnProperty.call(proto, 'axiosInstance')) return;
  // The constructor assigns `this.axiosInstance = axios.create(...)`: this setter sees it.
  Object.defineProperty(proto, 'axiosInstance', {
    configurable: true,
    set(this: object, instance: unknown) {
      Object.defineProperty(this, 'axiosInstance', { value: instance, writable: true, enumerable: true, configurable: true });
      if (isInstance(instance)) answerDirectly(axios, entry, instance);
    },
  });
  entry.restore.push(() => delete (proto as { axiosInstance?: unknown }).axiosInstance);
}

function answerDirectly(axios: AxiosModule, entry: Installed, instance: AxiosInstance): void {
  const { get, delete: del, post } = instance;
  /** The host that answers `url` when the instance is as axios.create made it and the call is one this path reproduces. */
  const hostFor = (url: unknown, config: unknown, data: unknown): InProcessClientOptions | undefined => {
    const d = instance.defaults;
    if (
      typeof url !== 'string' ||
      (config !== undefined && (typeof config !== 'object' || config === null || Object.keys(config).some((k) => k !== 'headers'))) ||
      d.adapter !== entry.adapter ||
      d.baseURL !== undefined ||
      d.auth !== undefined ||
      d.parseReviver !== undefined ||
      d.responseType !== undefined ||
      !sameSteps(d.transformRequest, axios.defaults.transformRequest) ||
      !sameSteps(d.transformResponse, axios.defaults.transformResponse) ||
      !noHandlers(instance.interceptors.request.handlers) ||
      !noHandlers(instance.interceptors.response.handlers)
    ) {
      return undefined;
    }
    // What `takes` checks of the merged config, without copying the defaults on every call.
    if (!plainBody(data) || !plainOptions(d)) return undefined;
    for (const host of entry.hosts) if (url.startsWith(host.rpcBaseUrl)) return host;
    return undefined;
  };
  instance.get = (url, config) => {
    const host = hostFor(url, config, undefined);
    return host ? call(axios, instance, host, 'get', url as string, undefined, config) : get(url, config);
  };
  instance.delete = (url, config) => {
    const host = hostFor(url, config, undefined);
    return host ? call(axios, instance, host, 'delete', url as string, undefined, config) : del(url, config);
  };
  instance.post = (url, data, config) => {
    const host = hostFor(url, config, data);
    return host ? call(axios, instance, host, 'post', url as string, data as string | undefined, config) : post(url, data, config);
  };
}

/** One call as axios would make it through the adapter above, without its pipeline. */
async function call(
  axios: AxiosModule,
  instance: AxiosInstance,
  host: InProcessClientOptions,
  method: 'get' | 'delete' | 'post',
  url: string,
  data: string | undefined,
  config: unknown,
): Promise<AxiosResponse> {
  const d = instance.defaults;
  // Axios.request: the common and the method's default headers, then the call's.
  const defaults = (d.headers ?? {}) as Record<string, unknown>;
  const headers = headersOf({
    ...asHeaders(defaults['common']),
    ...asHeaders(defaults[method]),
    ...asHeaders((config as { headers?: unknown } | undefined)?.headers),
  });
  let body = data;
  if (method === 'post') {
    // transformRequest: a JSON content type sends the string trimmed if it is JSON, else as
    // a JSON string (the SDK's startNew without input sends `""`); then dispatchRequest's
    // default content type.
    const type = headers['content-type'];
    if (typeof type === 'string' && type.includes('application/json')) body = stringifySafely(data);
    else if (type === undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  const reply = await ask(host, method.toUpperCase(), url, headers, body ?? '');
  const responseConfig: AxiosConfig = { url, method, data: body, headers, validateStatus: d.validateStatus };
  return settle(axios, {
    data: transformResponse(reply.text, d.transitional?.forcedJSONParsing !== false),
    status: reply.status,
    statusText: STATUS_CODES[reply.status] ?? '',
    headers: axios.AxiosHeaders.from({ ...reply.headers }),
    config: responseConfig,
    request: undefined,
  });
}

const asHeaders = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {});

/** axios's stringifySafely for a string or no body. */
function stringifySafely(data: string | undefined): string | undefined {
  if (typeof data === 'string') {
    try {
      JSON.parse(data);
      return data.trim();
    } catch {
      // Not JSON: sent as a JSON string.
    }
  }
  return JSON.stringify(data);
}

/** axios's default transformResponse for a text body and no responseType (silent JSON parsing). */
function transformResponse(text: string, forcedJSONParsing: boolean): unknown {
  if (text === '' || !forcedJSONParsing) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
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
