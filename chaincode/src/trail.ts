import type { Context } from 'fabric-contract-api';
import { canonicalJson } from './canonical';
import { parseArg, workflowIdSchema } from './inputs';
import { leaseKey, RUN_SCOPED_TYPES } from './keys';
import { parseJson, timestampIso } from './ledgerState';
import type { TrailEntry } from './state/trailEntry';

/**
 * A run's trail, for its receipt: every committed write of the run's own keys (each key of a
 * run-scoped type whose first attribute is the workflow id: the workflow record, its approval
 * requests, and whatever later records a run gets under those types) and of its datasets'
 * lease keys over the run's span (the lease in force when the run's first record was written,
 * and every change after it until the run's last record once it is cleaned up). Raw values:
 * the reader decides what a value means, so a record kind added later shows up unchanged.
 * Block numbers are not known to chaincode; the reader gets them from the ledger (qscc).
 */
export async function workflowTrail(ctx: Context, workflowId: string): Promise<string> {
  const id = parseArg(workflowIdSchema, workflowId, 'workflowId');
  const own: TrailEntry[] = [];
  const datasetIds = new Set<string>();
  let cleanedUp = false;
  for (const type of RUN_SCOPED_TYPES) {
    for await (const { key, value } of ctx.stub.getStateByPartialCompositeKey(type, [id])) {
      const current = recordOf(value);
      if (typeof current.datasetId === 'string') datasetIds.add(current.datasetId);
      if (Array.isArray(current.datasetIds)) for (const d of current.datasetIds) if (typeof d === 'string') datasetIds.add(d);
      if (typeof current.cleanedUpAt === 'string') cleanedUp = true;
      own.push(...(await historyOf(ctx, key)).reverse());
    }
  }
  if (own.length === 0) return canonicalJson([]);
  const times = own.map((e) => Date.parse(e.timestamp));
  const start = Math.min(...times);
  const end = cleanedUp ? Math.max(...times) : Number.POSITIVE_INFINITY;
  const leases: TrailEntry[] = [];
  for (const datasetId of [...datasetIds].sort()) {
    const inSpan: TrailEntry[] = [];
    for (const entry of await historyOf(ctx, leaseKey(ctx.stub, datasetId))) {
      const at = Date.parse(entry.timestamp);
      if (at > end) continue;
      if (at >= start) {
        inSpan.push(entry);
        continue;
      }
      // Newest first: the first entry before the span is the lease the run started under.
      if (!entry.isDelete) inSpan.push(entry);
      break;
    }
    leases.push(...inSpan.reverse());
  }
  return canonicalJson([...leases, ...own]);
}

/** The fields the span is read from; a value that is not a JSON object has none. */
function recordOf(value: Uint8Array): { datasetId?: unknown; datasetIds?: unknown; cleanedUpAt?: unknown } {
  try {
    const parsed = parseJson<unknown>(value);
    return typeof parsed === 'object' && parsed !== null ? parsed : {};
  } catch {
    return {};
  }
}

/** Newest first, as Fabric 2.x returns key history. */
async function historyOf(ctx: Context, key: string): Promise<TrailEntry[]> {
  const entries: TrailEntry[] = [];
  for await (const mod of ctx.stub.getHistoryForKey(key)) {
    entries.push({
      key,
      txId: mod.txId,
      timestamp: timestampIso(mod.timestamp),
      isDelete: mod.isDelete,
      value: mod.isDelete ? '' : Buffer.from(mod.value).toString('utf8'),
    });
  }
  return entries;
}
