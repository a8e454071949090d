import { createHash } from 'node:crypto';
import { canonicalJson } from './workflow/hash';

/**
 * A run's receipt: every ledger transaction that concerns the run (its leases, the owners'
 * approvals, launch, finish, outputs, result decisions, cleanup), each named by transaction
 * id and block number with the value it wrote, and a summary (`run`) read off those values.
 * The host builds it from the run's ledger trail; `ledgerflow receipt verify` checks every
 * entry against the ledger itself and rebuilds the summary with the same functions, so the
 * receipt is only as good as the ledger, never as the host.
 *
 * Entries are generic (key, kind, value): a record kind the chaincode adds later shows up
 * in receipts unchanged. A value that carries a dataset location or a credential, even
 * sealed, is shown only as its sha256 (which the verifier still checks).
 */
export const RECEIPT_FORMAT = 'ledgerflow.receipt.v1';

export interface ReceiptTransaction {
  txId: string;
  blockNumber: number;
  /** The world-state key written (composite keys keep their U+0000 separators). */
  key: string;
  kind: string;
  /** The transaction's timestamp (ISO-8601). */
  timestamp: string;
  /** The JSON value written; absent for a delete and where `valueSha256` stands instead. */
  value?: unknown;
  /** sha256 hex of the bytes written, for values that may not be shown. */
  valueSha256?: string;
  deleted?: boolean;
}

export interface TxRef {
  txId: string;
  blockNumber: number;
}

export interface OutputFile {
  path: string;
  size: number;
  sha256: string;
}
export interface OutputLog {
  job: string;
  size: number;
  sha256: string;
}
export interface RunOutputs {
  files: OutputFile[];
  logs: OutputLog[];
}

/** What the entries say, by name. Every field is derived from `transactions` (summarizeRun). */
export interface RunSummary {
  datasetIds: string[];
  leases: (TxRef & { datasetId: string; holder: unknown; takenAt: string; expiresAt: string })[];
  leaseEnds: (TxRef & { datasetId: string })[];
  approvals: (TxRef & { datasetId: string; owner: string; state: string; specHash: string; filesHash: string })[];
  launch:
    | (TxRef & {
        specHash: string;
        filesHash?: string;
        datasetIds: string[];
        /** The content version of each dataset the run read, as the chaincode recorded it. */
        datasetVersions?: { datasetId: string; version: number; contentHash?: string }[];
        backend?: string;
        images?: string[];
      })
    | null;
  jobs: unknown[];
  finish: (TxRef & { status: string }) | null;
  /** As first recorded (at finish), with the manifest digest the record names, if any. */
  outputs: (TxRef & RunOutputs & { sha256?: string }) | null;
  /** The outputs' fate as last recorded (released, pending-review, rejected). */
  results: string | null;
  /** Owners' decisions on the results (release, reject), whatever record carries them. */
  reviews: (TxRef & { kind: string; state: string; datasetId?: string; outputsSha256?: string })[];
  cleanup: TxRef | null;
}

export interface Receipt {
  format: typeof RECEIPT_FORMAT;
  workflowId: string;
  ledger: { channel: string; chaincode: string };
  transactions: ReceiptTransaction[];
  run: RunSummary;
}

/** One committed write of a key that concerns the run, as the ledger's trail lists it. */
export interface TrailWrite {
  key: string;
  txId: string;
  blockNumber: number;
  timestamp: string;
  isDelete: boolean;
  /** The bytes written, as UTF-8 text. */
  value: string;
}

/** Field names whose values a receipt never shows: a dataset's location (sealed or not) and
 * anything that names a credential. */
const HIDDEN_FIELDS = new Set(['sealedLocation', 'location', 'source', 'shareUrl', 'credential', 'credentialRef', 'secret', 'token', 'password']);

export const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** The value as a receipt shows it: parsed JSON, or only its digest when it is not JSON or
 * carries a hidden field at any depth. */
export function shownValue(text: string): { value: unknown } | { valueSha256: string } {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    return { valueSha256: sha256Hex(text) };
  }
  return carriesHidden(value) ? { valueSha256: sha256Hex(text) } : { value };
}

function carriesHidden(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(carriesHidden);
  if (typeof value !== 'object' || value === null) return false;
  return Object.entries(value).some(([k, v]) => HIDDEN_FIELDS.has(k) || carriesHidden(v));
}

/** Type and attributes of a Fabric composite key (`\0type\0attr...\0`); a simple key is its own type. */
export function keyParts(key: string): { type: string; attributes: string[] } {
  if (!key.startsWith('\u0000')) return { type: key, attributes: [] };
  const [type = '', ...attributes] = key.slice(1, key.endsWith('\u0000') ? -1 : undefined).split('\u0000');
  return { type, attributes };
}

const record = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** What a write did, from its key and value, and the key's previous value in the trail. */
export function kindOf(entry: Pick<ReceiptTransaction, 'key' | 'value' | 'deleted'>, previous: unknown): string {
  const { type, attributes } = keyParts(entry.key);
  const value = record(entry.value);
  const state = str(value['state']);
  if (type === 'lease') return entry.deleted === true ? 'lease-ended' : 'lease-taken';
  if (type === 'approval') return state === 'pending' ? 'approval-requested' : `approval-${state ?? 'changed'}`;
  if (entry.deleted === true) return `${type}-deleted`;
  if (type === 'workflow' && attributes.length === 1) {
    const before = record(previous);
    if (previous === undefined) return 'launch';
    if (value['cleanedUpAt'] !== undefined && before['cleanedUpAt'] === undefined) return 'cleanup';
    if (value['finishedAt'] !== undefined && before['finishedAt'] === undefined) return 'finish';
    const results = record(value['results']);
    if (canonicalJson(results) !== canonicalJson(record(before['results']))) {
      // A decision on the outputs: named after the review it decided.
      const earlier = reviewsOf(before);
      const decided = reviewsOf(value).find((r) => r.state !== 'pending' && earlier.find((e) => e.datasetId === r.datasetId)?.state !== r.state);
      return `results-${decided?.state ?? str(results['state']) ?? 'changed'}`;
    }
    return 'workflow-updated';
  }
  // A word after the workflow id names the record (`workflow` [id, 'outputs']); an id does not.
  const name = [type, ...attributes.slice(1, 2).filter((a) => /^[a-z][a-z-]*$/.test(a))].join('-');
  return state === undefined ? name : `${name}-${state}`;
}

/** The owners' reviews of the outputs a record carries (`results.reviews`). */
function reviewsOf(value: unknown): { datasetId: string; state: string; outputsSha256?: string }[] {
  const reviews = record(record(value)['results'])['reviews'];
  if (!Array.isArray(reviews)) return [];
  return reviews.map((r) => {
    const review = record(r);
    const digest = str(review['outputsSha256']);
    return { datasetId: str(review['datasetId']) ?? '', state: str(review['state']) ?? '', ...(digest === undefined ? {} : { outputsSha256: digest }) };
  });
}

/** Outputs as a record carries them: `outputs: {files, logs}`, or `files`/`logs` at its top. */
export function outputsOf(value: unknown): RunOutputs | undefined {
  const v = record(value);
  const holder = record(v['outputs']);
  const source = Array.isArray(holder['files'])
    ? holder
    : Array.isArray(v['files']) && v['files'].every((f) => typeof record(f)['sha256'] === 'string')
      ? v
      : undefined;
  if (source === undefined) return undefined;
  return {
    files: (source['files'] as unknown[]).map((f) => {
      const r = record(f);
      return { path: String(r['path']), size: Number(r['size']), sha256: String(r['sha256']) };
    }),
    logs: (Array.isArray(source['logs']) ? (source['logs'] as unknown[]) : []).map((l) => {
      const r = record(l);
      return { job: String(r['job']), size: Number(r['size']), sha256: String(r['sha256']) };
    }),
  };
}

/** Entries from the trail, in ledger order, each with its kind and shown value. */
export function receiptTransactions(trail: readonly TrailWrite[]): ReceiptTransaction[] {
  const ordered = trail.map((w, i) => ({ w, i })).sort((a, b) => a.w.blockNumber - b.w.blockNumber || compareText(a.w.timestamp, b.w.timestamp) || a.i - b.i);
  const previous = new Map<string, unknown>();
  return ordered.map(({ w }) => {
    const shown = w.isDelete ? {} : shownValue(w.value);
    const entry: ReceiptTransaction = { txId: w.txId, blockNumber: w.blockNumber, key: w.key, kind: '', timestamp: w.timestamp, ...shown };
    if (w.isDelete) entry.deleted = true;
    entry.kind = kindOf(entry, previous.get(w.key));
    previous.set(w.key, w.isDelete ? undefined : entry.value);
    return entry;
  });
}

/** The summary of a receipt, read off its entries. */
export function summarizeRun(transactions: readonly ReceiptTransaction[]): RunSummary {
  const summary: RunSummary = {
    datasetIds: [],
    leases: [],
    leaseEnds: [],
    approvals: [],
    launch: null,
    jobs: [],
    finish: null,
    outputs: null,
    results: null,
    reviews: [],
    cleanup: null,
  };
  const datasets = new Set<string>();
  for (const t of transactions) {
    const ref: TxRef = { txId: t.txId, blockNumber: t.blockNumber };
    const v = record(t.value);
    const { type, attributes } = keyParts(t.key);
    if (type === 'lease') {
      const datasetId = attributes[0] ?? '';
      if (t.deleted === true) summary.leaseEnds.push({ ...ref, datasetId });
      else summary.leases.push({ ...ref, datasetId, holder: v['holder'] ?? null, takenAt: str(v['takenAt']) ?? '', expiresAt: str(v['expiresAt']) ?? '' });
      continue;
    }
    if (type === 'approval') {
      const datasetId = str(v['datasetId']) ?? attributes[1] ?? '';
      datasets.add(datasetId);
      summary.approvals.push({
        ...ref,
        datasetId,
        owner: str(record(v['owner'])['org']) ?? '',
        state: str(v['state']) ?? '',
        specHash: str(v['specHash']) ?? '',
        filesHash: str(v['filesHash']) ?? '',
      });
      continue;
    }
    if (t.kind === 'launch') {
      const datasetIds = Array.isArray(v['datasetIds']) ? v['datasetIds'].map(String) : [];
      for (const d of datasetIds) datasets.add(d);
      summary.launch = {
        ...ref,
        specHash: str(v['specHash']) ?? '',
        ...(str(v['filesHash']) === undefined ? {} : { filesHash: str(v['filesHash'])! }),
        datasetIds,
        ...(Array.isArray(v['datasetVersions']) ? { datasetVersions: v['datasetVersions'].map(datasetVersionOf) } : {}),
        ...(str(v['backend']) === undefined ? {} : { backend: str(v['backend'])! }),
        ...(Array.isArray(v['images']) ? { images: v['images'].map(String) } : {}),
      };
    }
    if (t.kind === 'finish') {
      summary.finish = { ...ref, status: str(v['status']) ?? '' };
      if (Array.isArray(v['jobs'])) summary.jobs = v['jobs'];
    }
    if (t.kind === 'cleanup') summary.cleanup = ref;
    const outputs = outputsOf(t.value);
    const digest = str(v['outputsSha256']);
    if (outputs !== undefined && summary.outputs === null) summary.outputs = { ...ref, ...outputs, ...(digest === undefined ? {} : { sha256: digest }) };
    const results = str(record(v['results'])['state']);
    if (results !== undefined) summary.results = results;
    for (const review of reviewsOf(t.value)) {
      const known = summary.reviews.some((r) => r.datasetId === review.datasetId && r.state === review.state);
      if (review.state !== 'pending' && !known) summary.reviews.push({ ...ref, kind: t.kind, ...review });
    }
    const state = str(v['state']);
    if (type !== 'workflow' || attributes.length > 1) {
      if (state === 'released' || state === 'rejected')
        summary.reviews.push({ ...ref, kind: t.kind, state, ...(str(v['datasetId']) === undefined ? {} : { datasetId: str(v['datasetId'])! }) });
    }
  }
  summary.datasetIds = [...datasets].sort();
  return summary;
}

export function buildReceipt(workflowId: string, ledger: Receipt['ledger'], trail: readonly TrailWrite[]): Receipt {
  const transactions = receiptTransactions(trail);
  return { format: RECEIPT_FORMAT, workflowId, ledger, transactions, run: summarizeRun(transactions) };
}

/**
 * The hash chain a receipt claims, checked on its (verified) entries: each owner's approval
 * names the spec and files hashes the launch ran; every record of the outputs (at finish, in
 * a release or rejection) names the same files and logs with the same sha256, and the
 * manifest digest a record names is that of the manifest it holds; each decision on the
 * outputs names the digest recorded at finish. Returns the first break, or undefined.
 */
export function chainBreak(transactions: readonly ReceiptTransaction[]): string | undefined {
  const run = summarizeRun(transactions);
  if (run.launch !== null) {
    for (const a of run.approvals) {
      if (a.state !== 'approved') continue;
      if (a.specHash !== run.launch.specHash) {
        return `the approval of dataset ${a.datasetId} (tx ${a.txId}) names spec hash ${a.specHash}, the launch (tx ${run.launch.txId}) ran ${run.launch.specHash}`;
      }
      if (a.filesHash !== run.launch.filesHash) {
        return `the approval of dataset ${a.datasetId} (tx ${a.txId}) names files hash ${a.filesHash}, the launch (tx ${run.launch.txId}) ran ${run.launch.filesHash ?? 'none'}`;
      }
    }
  }
  const first = run.outputs;
  for (const t of transactions) {
    const outputs = outputsOf(t.value);
    if (first === null || outputs === undefined) continue;
    const named = str(record(t.value)['outputsSha256']);
    const actual = manifestSha256(record(t.value)['outputs'] ?? outputs);
    if (named !== undefined && named !== actual) return `the outputs recorded by tx ${t.txId} (${t.kind}) hash to ${actual}, the record names ${named}`;
    if (canonicalJson(sortedOutputs(outputs)) !== canonicalJson(sortedOutputs(first))) {
      return `the outputs recorded by tx ${t.txId} (${t.kind}) differ from those recorded by tx ${first.txId}`;
    }
  }
  for (const review of run.reviews) {
    if (review.outputsSha256 === undefined || review.outputsSha256 === first?.sha256) continue;
    const recorded =
      first === null ? 'none were recorded at finish' : `those recorded at finish (tx ${first.txId}) are named ${first.sha256 ?? 'by no digest'}`;
    return `the ${review.state} outputs of dataset ${review.datasetId ?? '?'} (tx ${review.txId}) name sha256 ${review.outputsSha256}, ${recorded}`;
  }
  return undefined;
}

/** The digest a record names for an output manifest: sha256 over its canonical JSON. */
export const manifestSha256 = (manifest: unknown): string => sha256Hex(canonicalJson(manifest));

function sortedOutputs(o: RunOutputs): RunOutputs {
  return {
    files: [...o.files].map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })).sort((a, b) => compareText(a.path, b.path)),
    logs: [...o.logs].map((l) => ({ job: l.job, size: l.size, sha256: l.sha256 })).sort((a, b) => compareText(a.job, b.job)),
  };
}

function datasetVersionOf(value: unknown): { datasetId: string; version: number; contentHash?: string } {
  const v = record(value);
  const contentHash = str(v['contentHash']);
  return {
    datasetId: str(v['datasetId']) ?? '',
    version: typeof v['version'] === 'number' ? v['version'] : 0,
    ...(contentHash === undefined ? {} : { contentHash }),
  };
}

/** The first field where two JSON values differ, as a path (`run.launch.specHash`), or undefined. */
export function firstDifference(expected: unknown, actual: unknown, path: string): string | undefined {
  if (Array.isArray(expected) && Array.isArray(actual)) {
    if (expected.length !== actual.length) return `${path}.length`;
    for (let i = 0; i < expected.length; i++) {
      const d = firstDifference(expected[i], actual[i], `${path}[${i}]`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  if (
    typeof expected === 'object' &&
    expected !== null &&
    typeof actual === 'object' &&
    actual !== null &&
    !Array.isArray(expected) &&
    !Array.isArray(actual)
  ) {
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
    for (const k of keys) {
      const d = firstDifference((expected as Record<string, unknown>)[k], (actual as Record<string, unknown>)[k], `${path}.${k}`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  return canonicalJson(expected) === canonicalJson(actual) ? undefined : path;
}

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The value at a path as firstDifference writes it (`run.launch.specHash`, `value.jobs[0]`). */
export function pathValue(root: unknown, path: string): unknown {
  let at: unknown = root;
  for (const part of path.match(/[^.[\]]+/g) ?? []) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

export const showValue = (v: unknown): string => (v === undefined ? 'nothing' : canonicalJson(v));

/**
 * The checks of a receipt that need only the receipt (the rest of `ledgerflow receipt verify`
 * asks the ledger for each transaction): each entry's kind follows from the value written and
 * the key's previous value, the summary (`run`) is what the transactions say, and the hashes
 * chain (chainBreak). Returns the first mismatch, or undefined. Pure, so the web console runs
 * it in the browser too.
 */
export function receiptInconsistency(receipt: Receipt): string | undefined {
  if (receipt.format !== RECEIPT_FORMAT) return `format: not a ${RECEIPT_FORMAT} receipt`;
  const previous = new Map<string, unknown>();
  for (const [i, entry] of receipt.transactions.entries()) {
    const kind = kindOf(entry, previous.get(entry.key));
    if (kind !== entry.kind)
      return `transactions[${i}] (tx ${entry.txId}, ${entry.kind}).kind: the receipt says ${entry.kind}, the value written makes it ${kind}`;
    previous.set(entry.key, entry.deleted === true ? undefined : entry.value);
  }
  const summary = summarizeRun(receipt.transactions);
  const differs = firstDifference(summary, receipt.run, 'run');
  if (differs !== undefined) {
    return `${differs}: the receipt says ${showValue(pathValue(receipt, differs))}, its transactions say ${showValue(pathValue({ run: summary }, differs))}`;
  }
  const broken = chainBreak(receipt.transactions);
  return broken === undefined ? undefined : `hash chain: ${broken}`;
}
