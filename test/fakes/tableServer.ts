import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import type { HttpClient } from '@azure/core-rest-pipeline';
import { loopbackHttpClient, selfSignedCertificate } from './selfSignedCert';

/**
 * An Azure Table storage fake over HTTPS that the real @azure/data-tables TableClient talks
 * to, host-style as Azure (https://<account>.table.test:<port>/<table>..., a self-signed
 * certificate; `httpClient()` or loopbackDns resolves the name to the loopback), with Entra
 * bearer tokens. Wire format as the REST reference describes it (Query Entities, Insert /
 * Update / Merge / Delete Entity, Create Table; errors as `odata.error` JSON with
 * `x-ms-error-code`): JSON with `odata=nometadata|minimalmetadata`, ETags and If-Match (412
 * UpdateConditionNotSatisfied), PUT/PATCH without If-Match as insert-or-replace/merge,
 * queries with `$filter` (conjunctions of comparisons on PartitionKey, RowKey and string
 * properties), `$top` (at most 1000) and the `x-ms-continuation-NextPartitionKey/NextRowKey`
 * headers. As the service may, a query answers after `scanLimit` rows examined or at a
 * partition boundary with fewer rows (even none) and a continuation. Limits enforced: 64 KiB
 * per property, 1 MiB per entity, no `/ \ # ?` or control characters in keys. No $batch.
 */
export const FAKE_TABLE_TOKEN = 'fake-table-token';
const ACCOUNT = 'devstoreaccount1';

interface Entity {
  pk: string;
  rk: string;
  /** The properties as sent, with their `@odata.type` annotations. */
  props: Record<string, unknown>;
  etag: string;
  timestamp: string;
}

type Op = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
interface Comparison {
  property: string;
  op: Op;
  value: string | number | boolean;
}

class Refused extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** `$filter` as a conjunction of `<property> <op> <literal>`; anything else is refused. */
export function parseFilter(filter: string): Comparison[] {
  const tokens = filter.match(/'(?:[^']|'')*'|[^\s()]+|[()]/g) ?? [];
  const out: Comparison[] = [];
  for (let i = 0; i < tokens.length;) {
    const [property, op, literal] = [tokens[i], tokens[i + 1], tokens[i + 2]];
    if (
      property === undefined ||
      op === undefined ||
      literal === undefined ||
      !/^[A-Za-z_][A-Za-z0-9_]*$/.test(property) ||
      !/^(eq|ne|gt|ge|lt|le)$/.test(op)
    ) {
      throw new Refused(501, 'NotImplemented', `the fake supports only 'a op literal and ...' filters: ${filter}`);
    }
    let value: string | number | boolean;
    if (literal.startsWith("'")) value = literal.slice(1, -1).replace(/''/g, "'");
    else if (literal === 'true' || literal === 'false') value = literal === 'true';
    else if (/^-?\d+(\.\d+)?$/.test(literal)) value = Number(literal);
    else throw new Refused(501, 'NotImplemented', `literal ${literal}`);
    out.push({ property, op: op as Op, value });
    i += 3;
    if (i < tokens.length) {
      if (tokens[i] !== 'and') throw new Refused(501, 'NotImplemented', `only 'and' joins comparisons: ${filter}`);
      i++;
    }
  }
  return out;
}

function compare(a: unknown, c: Comparison): boolean {
  if (typeof a !== typeof c.value) return c.op === 'ne';
  const x = a as string | number | boolean;
  switch (c.op) {
    case 'eq':
      return x === c.value;
    case 'ne':
      return x !== c.value;
    case 'gt':
      return x > c.value;
    case 'ge':
      return x >= c.value;
    case 'lt':
      return x < c.value;
    case 'le':
      return x <= c.value;
  }
}

/** Keys may not hold `/ \\ # ?` nor control characters (U+0000-001F, U+007F-009F). */
const badKey = (key: string) => /[/\\#?]/.test(key) || [...key].some((c) => c.charCodeAt(0) < 0x20 || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f));
const byKey = (a: Entity, b: Entity) => (a.pk < b.pk ? -1 : a.pk > b.pk ? 1 : a.rk < b.rk ? -1 : a.rk > b.rk ? 1 : 0);
const token = (s: string) => Buffer.from(s, 'utf8').toString('base64url');
const untoken = (s: string) => Buffer.from(s, 'base64url').toString('utf8');

export class FakeTableServer {
  /** Examined rows after which a query answers with a continuation (the service's 5 s). */
  scanLimit = 1000;
  /** Every `$filter` a query carried (empty string: none), for assertions. */
  readonly filters: string[] = [];
  /** Query answers that carried a continuation. */
  continuations = 0;
  /** Requests seen, as `METHOD path`. */
  readonly requests: string[] = [];
  private readonly tables = new Map<string, Map<string, Entity>>();
  /** Last Timestamp given (ms): each write gets a later one, so every ETag is new. */
  private clock = 0;

  private constructor(
    private readonly server: Server,
    private readonly ca: string,
  ) {}

  static async start(): Promise<FakeTableServer> {
    const cert = await selfSignedCertificate(['*.table.test']);
    const server = createServer({ cert: cert.certPem, key: cert.keyPem });
    const fake = new FakeTableServer(server, cert.certPem);
    server.on('request', (req, res) => fake.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  /** The account's table endpoint, as RUN_INDEX_TABLE_URL would name it. */
  get url(): string {
    return `https://${ACCOUNT}.table.test:${(this.server.address() as AddressInfo).port}`;
  }

  /** A credential that hands out the one token this fake accepts. */
  credential(): TokenCredential {
    return { getToken: async (): Promise<AccessToken> => ({ token: FAKE_TABLE_TOKEN, expiresOnTimestamp: Date.now() + 3600_000 }) };
  }

  /** The self-signed CA certificate (PEM), e.g. for NODE_EXTRA_CA_CERTS of a host process. */
  get caCertPem(): string {
    return this.ca;
  }

  /** An HttpClient that reaches this fake: its name resolved to the loopback, its certificate trusted. */
  httpClient(): HttpClient {
    return loopbackHttpClient(this.ca);
  }

  /** The rows a table holds, in key order (test inspection and tampering). */
  rows(table: string): { partitionKey: string; rowKey: string; props: Record<string, unknown> }[] {
    return [...(this.tables.get(table)?.values() ?? [])].sort(byKey).map((e) => ({ partitionKey: e.pk, rowKey: e.rk, props: { ...e.props } }));
  }

  /** Deletes a row behind the client's back (a crash between writes). */
  drop(table: string, partitionKey: string, rowKey: string): void {
    this.tables.get(table)?.delete(`${partitionKey}\u0000${rowKey}`);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'https://x');
      this.requests.push(`${req.method} ${decodeURIComponent(url.pathname)}`);
      const json = /odata=nometadata/.test(req.headers.accept ?? '') ? 'nometadata' : 'minimalmetadata';
      const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, {
          'x-ms-version': String(req.headers['x-ms-version'] ?? ''),
          'x-ms-request-id': `${Date.now()}`,
          ...(body !== undefined && { 'content-type': `application/json;odata=${json};streaming=true;charset=utf-8` }),
          ...headers,
        });
        res.end(body === undefined ? undefined : JSON.stringify(body));
      };
      try {
        if (req.headers.authorization !== `Bearer ${FAKE_TABLE_TOKEN}`)
          throw new Refused(403, 'AuthenticationFailed', 'Server failed to authenticate the request.');
        const body = chunks.length === 0 ? undefined : (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
        this.route(req, url, body, json, send);
      } catch (err) {
        if (!(err instanceof Refused)) throw err;
        send(
          err.status,
          { 'odata.error': { code: err.code, message: { lang: 'en-US', value: `${err.message}\nRequestId:fake\nTime:${new Date().toISOString()}` } } },
          { 'x-ms-error-code': err.code },
        );
      }
    });
  }

  private route(
    req: IncomingMessage,
    url: URL,
    body: Record<string, unknown> | undefined,
    json: 'nometadata' | 'minimalmetadata',
    send: (status: number, body?: unknown, headers?: Record<string, string>) => void,
  ): void {
    if (req.headers.host?.split('.')[0] !== ACCOUNT) throw new Refused(400, 'InvalidUri', `host-style: ${ACCOUNT}.table.test`);
    const rest = decodeURIComponent(url.pathname).slice(1);
    const noContent = /return-no-content/.test(String(req.headers.prefer ?? ''));
    if (rest === 'Tables' && req.method === 'POST') {
      const name = String(body?.TableName ?? '');
      if (!/^[A-Za-z][A-Za-z0-9]{2,62}$/.test(name)) throw new Refused(400, 'InvalidResourceName', `table name ${name}`);
      if (this.tables.has(name)) throw new Refused(409, 'TableAlreadyExists', 'The table specified already exists.');
      this.tables.set(name, new Map());
      return noContent ? send(204, undefined, { 'preference-applied': 'return-no-content' }) : send(201, { TableName: name });
    }
    const m = /^([A-Za-z][A-Za-z0-9]*)(?:\((?:PartitionKey='((?:[^']|'')*)',RowKey='((?:[^']|'')*)')?\))?$/.exec(rest);
    if (m === null) throw new Refused(400, 'InvalidUri', `unsupported path ${rest}`);
    const table = this.tables.get(m[1]!);
    if (table === undefined) throw new Refused(404, 'TableNotFound', 'The table specified does not exist.');
    const entitySet = !rest.includes('(');
    const keyed = m[2] !== undefined;
    const pk = m[2]?.replace(/''/g, "'");
    const rk = m[3]?.replace(/''/g, "'");
    const out = (e: Entity) => this.present(m[1]!, e, json);

    if (req.method === 'GET' && !keyed) return this.query(table, m[1]!, url, json, send);
    if (req.method === 'POST' && entitySet) {
      const e = this.entityOf(body, undefined, undefined);
      if (table.has(`${e.pk}\u0000${e.rk}`)) throw new Refused(409, 'EntityAlreadyExists', 'The specified entity already exists.');
      table.set(`${e.pk}\u0000${e.rk}`, e);
      return noContent ? send(204, undefined, { etag: e.etag, 'preference-applied': 'return-no-content' }) : send(201, out(e), { etag: e.etag });
    }
    if (!keyed) throw new Refused(405, 'MethodNotAllowed', `${req.method} ${rest}`);
    const key = `${pk}\u0000${rk}`;
    const current = table.get(key);
    const ifMatch = req.headers['if-match'];
    const check = () => {
      if (current === undefined) throw new Refused(404, 'ResourceNotFound', 'The specified resource does not exist.');
      if (ifMatch !== '*' && ifMatch !== current.etag)
        throw new Refused(412, 'UpdateConditionNotSatisfied', 'The update condition specified in the request was not satisfied.');
    };
    switch (req.method) {
      case 'GET':
        if (current === undefined) throw new Refused(404, 'ResourceNotFound', 'The specified resource does not exist.');
        return send(200, out(current), { etag: current.etag });
      case 'PUT':
      case 'PATCH':
      case 'MERGE': {
        if (ifMatch !== undefined) check();
        const merged = req.method === 'PUT' || current === undefined ? body : { ...current.props, ...body };
        const e = this.entityOf(merged, pk, rk);
        table.set(key, e);
        return send(204, undefined, { etag: e.etag });
      }
      case 'DELETE':
        if (ifMatch === undefined) throw new Refused(400, 'MissingRequiredHeader', 'If-Match is required.');
        check();
        table.delete(key);
        return send(204);
      default:
        throw new Refused(405, 'MethodNotAllowed', String(req.method));
    }
  }

  private entityOf(body: Record<string, unknown> | undefined, pk: string | undefined, rk: string | undefined): Entity {
    const props: Record<string, unknown> = { ...body };
    const partitionKey = pk ?? props.PartitionKey;
    const rowKey = rk ?? props.RowKey;
    if (typeof partitionKey !== 'string' || typeof rowKey !== 'string') throw new Refused(400, 'PropertiesNeedValue', 'PartitionKey and RowKey are required.');
    if (props.PartitionKey !== undefined && props.PartitionKey !== partitionKey) throw new Refused(400, 'InvalidInput', 'PartitionKey differs from the URL.');
    if (props.RowKey !== undefined && props.RowKey !== rowKey) throw new Refused(400, 'InvalidInput', 'RowKey differs from the URL.');
    for (const k of [partitionKey, rowKey])
      if (badKey(k) || k.length > 1024) throw new Refused(400, 'OutOfRangeInput', 'One of the request inputs is out of range.');
    delete props.PartitionKey;
    delete props.RowKey;
    delete props.Timestamp;
    delete props['odata.etag'];
    let size = 4 + 2 * (partitionKey.length + rowKey.length);
    for (const [name, value] of Object.entries(props)) {
      if (name.endsWith('@odata.type')) continue;
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,254}$/.test(name)) throw new Refused(400, 'PropertyNameInvalid', `The property name is invalid: ${name}`);
      const bytes = typeof value === 'string' ? 2 * value.length : 8;
      if (bytes > 64 * 1024) throw new Refused(400, 'PropertyValueTooLarge', 'The property value is larger than the maximum size permitted.');
      size += 8 + 2 * name.length + bytes;
    }
    if (size > 1024 * 1024) throw new Refused(400, 'EntityTooLarge', 'The entity is larger than the maximum size permitted.');
    this.clock = Math.max(Date.now(), this.clock + 1);
    const timestamp = new Date(this.clock).toISOString().replace('Z', '0000Z');
    return { pk: partitionKey, rk: rowKey, props, timestamp, etag: `W/"datetime'${encodeURIComponent(timestamp)}'"` };
  }

  private present(table: string, e: Entity, json: 'nometadata' | 'minimalmetadata'): Record<string, unknown> {
    const props = json === 'nometadata' ? Object.fromEntries(Object.entries(e.props).filter(([k]) => !k.endsWith('@odata.type'))) : e.props;
    return {
      ...(json === 'minimalmetadata' && {
        'odata.metadata': `${this.url}/$metadata#${table}/@Element`,
        'odata.etag': e.etag,
      }),
      PartitionKey: e.pk,
      RowKey: e.rk,
      Timestamp: e.timestamp,
      ...(json === 'minimalmetadata' && { 'Timestamp@odata.type': 'Edm.DateTime' }),
      ...props,
    };
  }

  private query(
    table: Map<string, Entity>,
    name: string,
    url: URL,
    json: 'nometadata' | 'minimalmetadata',
    send: (status: number, body?: unknown, headers?: Record<string, string>) => void,
  ): void {
    const filter = url.searchParams.get('$filter') ?? '';
    this.filters.push(filter);
    const comparisons = filter === '' ? [] : parseFilter(filter);
    const top = Number(url.searchParams.get('$top') ?? 1000);
    if (!Number.isInteger(top) || top < 1 || top > 1000) throw new Refused(400, 'InvalidInput', '$top must be 1 to 1000.');
    const nextPk = url.searchParams.get('NextPartitionKey');
    const nextRk = url.searchParams.get('NextRowKey');
    const start = nextPk === null ? undefined : { pk: untoken(nextPk), rk: nextRk === null ? '' : untoken(nextRk) };
    // A PartitionKey equality reads that partition only (the service's index); else a scan.
    const partition = comparisons.find((c) => c.property === 'PartitionKey' && c.op === 'eq')?.value;
    const rows = [...table.values()]
      .filter((e) => partition === undefined || e.pk === partition)
      .sort(byKey)
      .filter((e) => start === undefined || e.pk > start.pk || (e.pk === start.pk && e.rk >= start.rk));
    const value: Record<string, unknown>[] = [];
    let examined = 0;
    let next: Entity | undefined;
    for (let i = 0; i < rows.length; i++) {
      const e = rows[i]!;
      const fields: Record<string, unknown> = { ...e.props, PartitionKey: e.pk, RowKey: e.rk };
      if (comparisons.every((c) => compare(fields[c.property], c))) value.push(this.present(name, e, json));
      examined++;
      const following = rows[i + 1];
      if (following === undefined) break;
      // A page ends when full, after the scan budget, or where a partition ends.
      if (value.length >= top || examined >= this.scanLimit || following.pk !== e.pk) {
        next = following;
        break;
      }
    }
    if (next !== undefined) this.continuations++;
    const headers: Record<string, string> =
      next === undefined ? {} : { 'x-ms-continuation-NextPartitionKey': token(next.pk), 'x-ms-continuation-NextRowKey': token(next.rk) };
    send(200, { ...(json === 'minimalmetadata' && { 'odata.metadata': `${this.url}/$metadata#${name}` }), value }, headers);
  }
}
