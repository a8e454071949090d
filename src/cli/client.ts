import type { z } from 'zod';
import { errorBody, errorDetail } from '../api/schemas';
import { CliError, EXIT, exitCodeForStatus } from './exitCodes';

/**
 * The HTTP client of the CLI: one place that sends the bearer token, turns the API's
 * `{"error": {...}}` answers and network failures into CliErrors with the right exit code,
 * and checks every JSON answer against the API's own schemas (src/api/schemas.ts), so a
 * server that drifts from its contract fails loudly here instead of printing nonsense.
 */
export type Query = Readonly<Record<string, string | number | undefined>>;

export interface RequestOptions {
  readonly body?: unknown;
  /** Sent as is with this content type instead of JSON. */
  readonly rawBody?: { readonly contentType: string; readonly text: string };
  readonly query?: Query;
  /** Extra request headers (Range). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** Encodes each segment of a path that the caller names (a result file's path). */
export const encodePath = (path: string) => path.split('/').map(encodeURIComponent).join('/');

export class ApiClient {
  constructor(
    readonly endpoint: string,
    private readonly token: string | undefined,
  ) {}

  async json<S extends z.ZodType>(method: string, path: string, schema: S, options: RequestOptions = {}): Promise<z.output<S>> {
    const response = await this.send(method, path, options);
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CliError(EXIT.failure, 'bad_response', `${method} ${path} answered ${response.status} with a body that is not JSON`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new CliError(
        EXIT.failure,
        'bad_response',
        `${method} ${path} answered with an unexpected shape (${first?.path.join('.') || 'body'}: ${first?.message ?? 'invalid'})`,
      );
    }
    return parsed.data;
  }

  async empty(method: string, path: string, options: RequestOptions = {}): Promise<void> {
    const response = await this.send(method, path, options);
    await response.arrayBuffer();
  }

  async bytes(method: string, path: string, options: RequestOptions = {}): Promise<Buffer> {
    const response = await this.send(method, path, options);
    return Buffer.from(await response.arrayBuffer());
  }

  /** Sends a request; resolves only with a 2xx response. */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const url = new URL(`${this.endpoint.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (this.token !== undefined) headers['authorization'] = `Bearer ${this.token}`;
    let body: string | undefined;
    if (options.rawBody !== undefined) {
      headers['content-type'] = options.rawBody.contentType;
      body = options.rawBody.text;
    } else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    let response: Response;
    try {
      response = await fetch(url, { method, headers, ...(body === undefined ? {} : { body }) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new CliError(EXIT.unavailable, 'unavailable', `cannot reach ${this.endpoint} (${why}); is the host running (npm start)?`);
    }
    if (response.ok) return response;
    throw await this.toError(response);
  }

  private async toError(response: Response): Promise<CliError> {
    const exit = exitCodeForStatus(response.status);
    const text = await response.text().catch(() => '');
    let parsed: z.output<typeof errorBody> | undefined;
    try {
      const result = errorBody.safeParse(JSON.parse(text));
      if (result.success) parsed = result.data;
    } catch {
      // not JSON: described by its status below
    }
    if (parsed === undefined) {
      return new CliError(exit, `http_${response.status}`, `the server answered ${response.status} ${response.statusText}`.trim());
    }
    const { code, message, details: listed, ...data } = parsed.error;
    // Ledger validation errors list their problems as `issues` (the chaincode's name).
    const issues = errorDetail.array().safeParse(data['issues']);
    const details = listed ?? (issues.success ? issues.data : undefined);
    let line = message;
    if (code === 'lease_held') line = leaseHeldMessage(parsed.error) ?? message;
    if (code === 'unauthenticated' && this.token === undefined) {
      line = `${message} (no token: pass --token, set LEDGERFLOW_TOKEN, or run: ledgerflow config set token <token>)`;
    }
    return new CliError(exit, code, line, details ?? [], data);
  }
}

/** `dataset X is leased by bob@uio until ...` from the error's holder and expiry. */
function leaseHeldMessage(error: Record<string, unknown>): string | undefined {
  const holder = error['holder'] as { user?: unknown; org?: unknown } | undefined;
  const expiresAt = error['expiresAt'];
  if (typeof holder?.user !== 'string' || typeof holder.org !== 'string' || typeof expiresAt !== 'string') return undefined;
  const dataset = /dataset (\S+)/.exec(String(error['message']))?.[1];
  return `${dataset === undefined ? 'the dataset' : `dataset ${dataset}`} is leased by ${holder.user}@${holder.org} until ${expiresAt}`;
}
