import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/**
 * A Kubernetes API server fake for tests: the real REST protocol (JSON over HTTP on
 * loopback, bearer-token auth, Status objects for errors, `?watch=true` as a chunked
 * stream of JSON events, label selectors, merge patches, deletion propagation) for the
 * resources ledgerflow's compute backends use, so the real @kubernetes/client-node talks
 * to it through a generated kubeconfig. It plays the controllers too: a Job gets a Pod at
 * once, and tests finish Jobs and Argo nodes on command. Every request is recorded
 * (verb, group, resource, namespace) so tests can check the RBAC manifests against it.
 */
export interface RecordedRequest {
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';
  group: string;
  /** Plural, with the subresource if any: `pods/log`. */
  resource: string;
  namespace?: string;
  name?: string;
  /** The query of a `pods/log` read (sinceSeconds, timestamps, tailLines, ...). */
  query?: Record<string, string>;
}

interface ResourceType {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}
const TYPES: ResourceType[] = [
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true },
  { group: '', version: 'v1', plural: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', namespaced: true },
  { group: '', version: 'v1', plural: 'persistentvolumes', kind: 'PersistentVolume', namespaced: false },
  { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true },
  { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true },
  { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job', namespaced: true },
  { group: 'argoproj.io', version: 'v1alpha1', plural: 'workflows', kind: 'Workflow', namespaced: true },
];

type Obj = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { uid: string; kind: string; name: string }[];
    creationTimestamp?: string;
    [k: string]: unknown;
  };
  // The fake stores arbitrary objects and reaches into their spec and status freely.
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  status?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  [k: string]: unknown;
};
interface Watcher {
  type: ResourceType;
  namespace: string | undefined;
  selector: string | null;
  res: ServerResponse;
}

class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, string>,
  ) {
    super(message);
  }
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const clone = <T>(v: T): T => structuredClone(v);

/** A pod's log line as the kubelet keeps it: when the runtime read it (RFC 3339, up to
 * nanoseconds), and its text with its newline. A string of logs is stamped with the pod's end. */
export interface FakeLogLine {
  time: string;
  text: string;
}
export type FakeLogs = string | readonly FakeLogLine[];

/** Go's RFC3339Nano (`2006-01-02T15:04:05.999999999Z07:00`): trailing zeros of the fraction
 * dropped, and the dot with them. */
function rfc3339NanoTrimmed(time: string): string {
  const utc = time.endsWith('Z') ? time : new Date(time).toISOString();
  const [, seconds, fraction = ''] = /^(.{19})(?:\.([0-9]+))?Z$/.exec(utc)!;
  const trimmed = fraction.replace(/0+$/, '');
  return `${seconds!}${trimmed === '' ? '' : `.${trimmed}`}Z`;
}

/** GET .../pods/{name}/log as the kubelet answers it: `sinceSeconds` (lines read at or after
 * now minus that), `tailLines` (the last lines; with since, both suffixes meet), `timestamps`
 * (each line prefixed with its time and a space), `limitBytes` (the first bytes). */
function podLogText(lines: readonly FakeLogLine[], query: URLSearchParams): string {
  let selected = lines;
  const tail = query.get('tailLines');
  if (tail !== null) selected = selected.slice(Math.max(0, selected.length - Number(tail)));
  const sinceSeconds = query.get('sinceSeconds');
  if (sinceSeconds !== null) {
    const since = Date.now() - Number(sinceSeconds) * 1000;
    selected = selected.filter((line) => Date.parse(line.time) >= since);
  }
  const timestamps = query.get('timestamps') === 'true';
  const text = selected.map((line) => (timestamps ? `${rfc3339NanoTrimmed(line.time)} ${line.text}` : line.text)).join('');
  const limit = query.get('limitBytes');
  return limit === null ? text : Buffer.from(text).subarray(0, Number(limit)).toString('utf8');
}

export class FakeKubernetesApi {
  readonly requests: RecordedRequest[] = [];
  readonly token = randomBytes(16).toString('hex');
  private readonly store = new Map<string, Obj>();
  private readonly logs = new Map<string, readonly FakeLogLine[]>();
  private readonly watchers = new Set<Watcher>();
  /** Every change, so a watch from a listed resourceVersion misses nothing in between. */
  private readonly history: { rv: number; type: ResourceType; event: string; object: Obj }[] = [];
  private rv = 1;
  private server: Server | undefined;
  private url = '';
  private readonly failures: { verb: string; resource: string; code: number }[] = [];
  /** Called for a bare Pod (no owner) when it is created: return how it ends to finish it at once. */
  runPod: ((pod: Obj) => { exitCode: number; logs: FakeLogs } | undefined) | undefined;

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  kubeconfig(namespace: string): string {
    return JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'fake',
      // Plain HTTP on loopback; the client refuses http:// unless TLS verification is off.
      clusters: [{ name: 'fake', cluster: { server: this.url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'fake', user: { token: this.token } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake', namespace } }],
    });
  }

  writeKubeconfig(dir: string, namespace: string): string {
    const path = join(dir, 'kubeconfig');
    writeFileSync(path, this.kubeconfig(namespace), { mode: 0o600 });
    return path;
  }

  // ---- test API ------------------------------------------------------------------------

  /** Objects of one plural (e.g. `jobs`), optionally in one namespace. */
  objects(plural: string, namespace?: string): Obj[] {
    return [...this.store.entries()].filter(([k]) => k.startsWith(`${plural}/${namespace ?? ''}`)).map(([, o]) => clone(o));
  }

  get(plural: string, namespace: string | undefined, name: string): Obj | undefined {
    const o = this.store.get(this.key(plural, namespace, name));
    return o === undefined ? undefined : clone(o);
  }

  /** Puts an object in the store as if someone else had created it (e.g. to force a 409). */
  seed(plural: string, object: Obj): void {
    const type = this.type(plural);
    this.insert(type, object.metadata.namespace, clone(object));
  }

  /** Makes the next request with this verb on this resource fail with `code` (e.g. 500, 403). */
  failNext(verb: RecordedRequest['verb'], resource: string, code = 500): void {
    this.failures.push({ verb, resource, code });
  }

  /** Ends a Job's pod the way the kubelet and job controller would. */
  completeJob(name: string, exitCode: number, logs: FakeLogs = '', namespace?: string): void {
    const job = this.find('jobs', name, namespace);
    const pod = this.objects('pods', job.metadata.namespace).find((p) => p.metadata.ownerReferences?.some((r) => r.uid === job.metadata.uid));
    if (pod === undefined) throw new Error(`job ${name} has no pod`);
    const ended = now();
    this.finishPod(pod, exitCode, logs, ended);
    const ok = exitCode === 0;
    this.update('jobs', job, (j) => {
      j.status = {
        startTime: j.status?.startTime ?? ended,
        ...(ok ? { completionTime: ended, succeeded: 1 } : { failed: 1 }),
        active: 0,
        conditions: [
          {
            type: ok ? 'Complete' : 'Failed',
            status: 'True',
            lastTransitionTime: ended,
            ...(ok ? {} : { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }),
          },
        ],
      };
    });
  }

  /** Finishes a bare pod (no Job), e.g. a reader pod. */
  completePod(name: string, exitCode: number, logs: FakeLogs = '', namespace?: string): void {
    this.finishPod(this.find('pods', name, namespace), exitCode, logs, now());
  }

  /** Ends one task of an Argo Workflow: a node in `status.nodes` and its pod with logs. */
  completeWorkflowNode(workflowName: string, taskName: string, exitCode: number, logs: FakeLogs = '', namespace?: string): void {
    const wf = this.find('workflows', workflowName, namespace);
    const ns = wf.metadata.namespace!;
    const nodeName = `${workflowName}.${taskName}`;
    const nodeId = `${workflowName}-${parseInt(createHash('sha256').update(nodeName).digest('hex').slice(0, 8), 16)}`;
    const template = (wf.spec.templates as { name: string; metadata?: { labels?: Record<string, string> } }[]).find((t) => t.name === taskName);
    const ended = now();
    const pod: Obj = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${workflowName}-${taskName}-${nodeId.split('-').pop()}`,
        namespace: ns,
        labels: { ...(wf.spec.podMetadata?.labels ?? {}), ...(template?.metadata?.labels ?? {}), 'workflows.argoproj.io/workflow': workflowName },
        annotations: { 'workflows.argoproj.io/node-id': nodeId, 'workflows.argoproj.io/node-name': nodeName },
        ownerReferences: [{ uid: wf.metadata.uid!, kind: 'Workflow', name: workflowName }],
      },
      spec: {},
      status: { phase: 'Pending' },
    };
    this.insert(this.type('pods'), ns, pod);
    this.finishPod(pod, exitCode, logs, ended, 'main');
    this.update('workflows', wf, (w) => {
      w.status ??= {};
      w.status.nodes ??= {};
      w.status.nodes[nodeId] = {
        id: nodeId,
        name: nodeName,
        displayName: taskName,
        type: 'Pod',
        templateName: taskName,
        phase: exitCode === 0 ? 'Succeeded' : 'Failed',
        startedAt: ended,
        finishedAt: ended,
        outputs: { exitCode: String(exitCode) },
        ...(exitCode === 0 ? {} : { message: `Error (exit code ${exitCode})` }),
      };
    });
  }

  /** Ends a whole Workflow (phase Succeeded, Failed or Error). */
  finishWorkflow(name: string, phase: 'Succeeded' | 'Failed' | 'Error', namespace?: string): void {
    this.update('workflows', this.find('workflows', name, namespace), (w) => {
      w.status = { ...(w.status ?? {}), phase, finishedAt: now() };
    });
  }

  // ---- protocol ------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const body = await readBody(req);
    try {
      if (req.headers.authorization !== `Bearer ${this.token}`) throw new HttpError(401, 'Unauthorized', 'Unauthorized');
      const route = parsePath(url.pathname);
      if (route === undefined) throw new HttpError(404, 'NotFound', `the server could not find the requested resource`);
      const type = TYPES.find((t) => t.group === route.group && t.version === route.version && t.plural === route.plural);
      if (type === undefined) throw new HttpError(404, 'NotFound', `the server could not find the requested resource`);
      const ns = type.namespaced ? route.namespace : undefined;
      const verb = verbOf(req.method ?? 'GET', route.name, url.searchParams);
      this.requests.push({
        verb,
        group: type.group,
        resource: route.sub === undefined ? type.plural : `${type.plural}/${route.sub}`,
        ...(ns === undefined ? {} : { namespace: ns }),
        ...(route.name === undefined ? {} : { name: route.name }),
        ...(route.sub === 'log' && { query: Object.fromEntries(url.searchParams) }),
      });
      const failure = this.failures.findIndex((f) => f.verb === verb && f.resource === type.plural);
      if (failure >= 0) {
        const { code } = this.failures.splice(failure, 1)[0]!;
        throw new HttpError(code, code === 403 ? 'Forbidden' : 'InternalError', `injected failure of ${verb} ${type.plural}`);
      }
      if (type.namespaced && ns === undefined && verb !== 'list' && verb !== 'watch') throw new HttpError(404, 'NotFound', 'namespace required');
      await this.serve(verb, type, ns, route.name, route.sub, url.searchParams, req, body, res);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      send(res, err.code, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: err.message,
        reason: err.reason,
        ...(err.details ? { details: err.details } : {}),
        code: err.code,
      });
    }
  }

  private async serve(
    verb: RecordedRequest['verb'],
    type: ResourceType,
    ns: string | undefined,
    name: string | undefined,
    sub: string | undefined,
    query: URLSearchParams,
    req: IncomingMessage,
    raw: string,
    res: ServerResponse,
  ): Promise<void> {
    const selector = query.get('labelSelector');
    switch (verb) {
      case 'create': {
        const obj = JSON.parse(raw) as Obj;
        if (typeof obj.metadata?.name !== 'string' || obj.metadata.name === '') throw new HttpError(422, 'Invalid', 'metadata.name: Required value');
        if (type.namespaced) obj.metadata.namespace = ns!;
        if (this.store.has(this.key(type.plural, ns, obj.metadata.name))) {
          throw new HttpError(409, 'AlreadyExists', `${type.plural}${type.group ? `.${type.group}` : ''} "${obj.metadata.name}" already exists`, {
            name: obj.metadata.name,
            group: type.group,
            kind: type.plural,
          });
        }
        if (type.kind === 'Secret' && obj['stringData'] !== undefined) {
          const data = { ...(obj['data'] as Record<string, string> | undefined) };
          for (const [k, v] of Object.entries(obj['stringData'] as Record<string, string>)) data[k] = Buffer.from(v).toString('base64');
          obj['data'] = data;
          delete obj['stringData'];
        }
        const stored = this.insert(type, ns, obj);
        send(res, 201, stored);
        return;
      }
      case 'get': {
        const obj = this.mustGet(type, ns, name!);
        if (sub === 'log') {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(podLogText(this.logs.get(this.logKey(ns!, name!, query.get('container') ?? undefined)) ?? [], query));
          return;
        }
        send(res, 200, obj);
        return;
      }
      case 'list':
        send(res, 200, {
          apiVersion: type.group ? `${type.group}/${type.version}` : type.version,
          kind: `${type.kind}List`,
          metadata: { resourceVersion: String(this.rv) },
          items: this.matching(type, ns, selector),
        });
        return;
      case 'watch': {
        res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
        res.flushHeaders();
        const watcher: Watcher = { type, namespace: ns, selector, res };
        // Without a resourceVersion a watch starts with the current state as ADDED events;
        // with one, it replays every change after that version.
        const from = query.get('resourceVersion');
        const backlog =
          from === null || from === ''
            ? this.matching(type, ns, selector).map((object) => ({ event: 'ADDED', object }))
            : this.history.filter(
                (h) =>
                  h.rv > Number(from) &&
                  h.type === type &&
                  (ns === undefined || h.object.metadata.namespace === ns) &&
                  matchesSelector(h.object.metadata.labels ?? {}, selector),
              );
        for (const { event, object } of backlog) res.write(`${JSON.stringify({ type: event, object })}\n`);
        this.watchers.add(watcher);
        req.on('close', () => this.watchers.delete(watcher));
        return;
      }
      case 'patch': {
        const existing = this.mustGet(type, ns, name!);
        const contentType = String(req.headers['content-type'] ?? '');
        if (!contentType.includes('merge-patch+json'))
          throw new HttpError(415, 'UnsupportedMediaType', `the fake accepts merge patches only, not ${contentType}`);
        const patched = mergePatch(existing, JSON.parse(raw)) as Obj;
        patched.metadata.resourceVersion = String(++this.rv);
        this.store.set(this.key(type.plural, ns, name!), patched);
        this.emit(type, 'MODIFIED', patched);
        if (type.plural === 'workflows' && patched.spec?.shutdown !== undefined && existing.spec?.shutdown === undefined) this.shutdownWorkflow(patched);
        send(res, 200, this.store.get(this.key(type.plural, ns, name!)));
        return;
      }
      case 'delete': {
        const obj = this.mustGet(type, ns, name!);
        this.remove(type, obj, propagation(raw, query));
        send(res, 200, obj);
        return;
      }
      case 'deletecollection': {
        const doomed = this.matching(type, ns, selector);
        for (const o of doomed) this.remove(type, o, propagation(raw, query));
        send(res, 200, { apiVersion: type.group ? `${type.group}/${type.version}` : type.version, kind: `${type.kind}List`, metadata: {}, items: doomed });
        return;
      }
      default:
        throw new HttpError(405, 'MethodNotAllowed', `${verb} is not supported by the fake`);
    }
  }

  // ---- store and controllers -----------------------------------------------------------

  private key(plural: string, ns: string | undefined, name: string) {
    return `${plural}/${ns ?? ''}/${name}`;
  }
  private logKey(ns: string, pod: string, container: string | undefined) {
    return `${ns}/${pod}/${container ?? ''}`;
  }
  private type(plural: string): ResourceType {
    return TYPES.find((t) => t.plural === plural)!;
  }

  private find(plural: string, name: string, namespace: string | undefined): Obj {
    const found = [...this.store.values()].find(
      (o) =>
        o.metadata.name === name &&
        (namespace === undefined || o.metadata.namespace === namespace) &&
        this.store.get(this.key(plural, o.metadata.namespace, name)) === o,
    );
    if (found === undefined) throw new Error(`no ${plural} named ${name}`);
    return found;
  }

  private mustGet(type: ResourceType, ns: string | undefined, name: string): Obj {
    const o = this.store.get(this.key(type.plural, ns, name));
    if (o === undefined)
      throw new HttpError(404, 'NotFound', `${type.plural}${type.group ? `.${type.group}` : ''} "${name}" not found`, {
        name,
        group: type.group,
        kind: type.plural,
      });
    return clone(o);
  }

  private matching(type: ResourceType, ns: string | undefined, selector: string | null): Obj[] {
    const prefix = `${type.plural}/`;
    return [...this.store.entries()]
      .filter(([k, o]) => k.startsWith(prefix) && (ns === undefined || o.metadata.namespace === ns) && matchesSelector(o.metadata.labels ?? {}, selector))
      .map(([, o]) => clone(o));
  }

  private insert(type: ResourceType, ns: string | undefined, obj: Obj): Obj {
    obj.apiVersion ??= type.group ? `${type.group}/${type.version}` : type.version;
    obj.kind ??= type.kind;
    obj.metadata.uid = randomUUID();
    obj.metadata.resourceVersion = String(++this.rv);
    obj.metadata.creationTimestamp = now();
    if (ns !== undefined) obj.metadata.namespace = ns;
    this.store.set(this.key(type.plural, ns, obj.metadata.name), obj);
    this.emit(type, 'ADDED', obj);
    if (type.kind === 'Job') this.startJob(obj);
    if (type.kind === 'Workflow')
      this.update('workflows', obj, (w) => {
        w.status = { phase: 'Running', startedAt: now(), nodes: {} };
      });
    if (type.kind === 'Pod' && (obj.metadata.ownerReferences ?? []).length === 0 && this.runPod) {
      const outcome = this.runPod(clone(obj));
      if (outcome !== undefined)
        setImmediate(() => this.finishPod(this.store.get(this.key('pods', ns, obj.metadata.name))!, outcome.exitCode, outcome.logs, now()));
    }
    return clone(obj);
  }

  private update(plural: string, obj: Obj, change: (o: Obj) => void): void {
    const key = this.key(plural, obj.metadata.namespace, obj.metadata.name);
    const current = this.store.get(key);
    if (current === undefined) return;
    change(current);
    current.metadata.resourceVersion = String(++this.rv);
    this.emit(this.type(plural), 'MODIFIED', current);
  }

  private remove(type: ResourceType, obj: Obj, policy: string | undefined): void {
    const key = this.key(type.plural, obj.metadata.namespace, obj.metadata.name);
    if (!this.store.delete(key)) return;
    obj.metadata.resourceVersion = String(++this.rv);
    this.emit(type, 'DELETED', obj);
    // batch/v1 Jobs orphan their pods unless asked to propagate, as the real API does.
    const cascade = type.kind === 'Job' ? policy === 'Background' || policy === 'Foreground' : policy !== 'Orphan';
    if (!cascade) return;
    for (const pod of this.objects('pods', obj.metadata.namespace)) {
      if (pod.metadata.ownerReferences?.some((r) => r.uid === obj.metadata.uid)) this.remove(this.type('pods'), pod, policy);
    }
  }

  private emit(type: ResourceType, event: 'ADDED' | 'MODIFIED' | 'DELETED', obj: Obj): void {
    this.history.push({ rv: this.rv, type, event, object: clone(obj) });
    for (const w of this.watchers) {
      if (w.type !== type || (w.namespace !== undefined && w.namespace !== obj.metadata.namespace)) continue;
      if (!matchesSelector(obj.metadata.labels ?? {}, w.selector)) continue;
      w.res.write(`${JSON.stringify({ type: event, object: obj })}\n`);
    }
  }

  private startJob(job: Obj): void {
    const template = job.spec?.template ?? {};
    const suffix = createHash('sha256').update(job.metadata.uid!).digest('hex').slice(0, 5);
    const pod: Obj = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${job.metadata.name}-${suffix}`,
        namespace: job.metadata.namespace!,
        labels: {
          ...(template.metadata?.labels ?? {}),
          'batch.kubernetes.io/job-name': job.metadata.name,
          'job-name': job.metadata.name,
          'batch.kubernetes.io/controller-uid': job.metadata.uid!,
        },
        annotations: { ...(template.metadata?.annotations ?? {}) },
        ownerReferences: [{ uid: job.metadata.uid!, kind: 'Job', name: job.metadata.name }],
      },
      spec: clone(template.spec ?? {}),
      status: { phase: 'Pending' },
    };
    this.insert(this.type('pods'), job.metadata.namespace, pod);
    this.update('jobs', job, (j) => {
      j.status = { active: 1, startTime: now() };
    });
  }

  private finishPod(pod: Obj, exitCode: number, logs: FakeLogs, ended: string, container = 'main'): void {
    const ns = pod.metadata.namespace!;
    const lines = typeof logs === 'string' ? (logs.match(/[^\n]*\n|[^\n]+$/g) ?? []).map((text) => ({ time: ended, text })) : logs;
    this.logs.set(this.logKey(ns, pod.metadata.name, undefined), lines);
    this.logs.set(this.logKey(ns, pod.metadata.name, container), lines);
    this.update('pods', pod, (p) => {
      p.status = {
        phase: exitCode === 0 ? 'Succeeded' : 'Failed',
        startTime: p.status?.startTime ?? ended,
        containerStatuses: [
          {
            name: container,
            ready: false,
            restartCount: 0,
            image: 'x',
            imageID: 'x',
            state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: ended, finishedAt: ended } },
          },
        ],
      };
    });
  }

  private shutdownWorkflow(wf: Obj): void {
    this.update('workflows', wf, (w) => {
      w.status = { ...(w.status ?? {}), phase: 'Failed', finishedAt: now(), message: `Stopped with strategy '${w.spec.shutdown}'` };
    });
  }
}

// ---- wire helpers ----------------------------------------------------------------------

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function parsePath(path: string): { group: string; version: string; namespace?: string; plural: string; name?: string; sub?: string } | undefined {
  const parts = path
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) {
    group = '';
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, sub] = rest;
  if (plural === undefined || rest.length > 3) return undefined;
  return {
    group,
    version,
    plural,
    ...(namespace === undefined ? {} : { namespace }),
    ...(name === undefined ? {} : { name }),
    ...(sub === undefined ? {} : { sub }),
  };
}

function verbOf(method: string, name: string | undefined, query: URLSearchParams): RecordedRequest['verb'] {
  switch (method) {
    case 'GET':
      return name !== undefined ? 'get' : ['true', '1'].includes(query.get('watch') ?? '') ? 'watch' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return name !== undefined ? 'delete' : 'deletecollection';
    default:
      throw new HttpError(405, 'MethodNotAllowed', `method ${method} not allowed`);
  }
}

function propagation(raw: string, query: URLSearchParams): string | undefined {
  if (raw.trim() !== '') {
    const options = JSON.parse(raw) as { propagationPolicy?: string };
    if (options.propagationPolicy !== undefined) return options.propagationPolicy;
  }
  return query.get('propagationPolicy') ?? undefined;
}

/** Equality (`a=b`, `a==b`), inequality (`a!=b`), set (`a in (x,y)`, `a notin (x)`) and existence (`a`, `!a`). */
export function matchesSelector(labels: Record<string, string>, selector: string | null): boolean {
  if (selector === null || selector.trim() === '') return true;
  const terms = selector.match(/[^,(]+(\([^)]*\))?/g) ?? [];
  return terms.every((raw) => {
    const term = raw.trim();
    let m: RegExpMatchArray | null;
    if ((m = term.match(/^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      const values = m[3]!.split(',').map((v) => v.trim());
      const has = labels[m[1]!] !== undefined && values.includes(labels[m[1]!]!);
      return m[2] === 'in' ? has : !has;
    }
    if ((m = term.match(/^([^!=\s]+)\s*!=\s*(.*)$/))) return labels[m[1]!] !== m[2];
    if ((m = term.match(/^([^!=\s]+)\s*==?\s*(.*)$/))) return labels[m[1]!] === m[2];
    if (term.startsWith('!')) return labels[term.slice(1)] === undefined;
    return labels[term] !== undefined;
  });
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
