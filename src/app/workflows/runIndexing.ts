import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { LedgerflowError } from '../../core/errors';
import { WORKFLOW_STATUSES, type Caller, type WorkflowStatus } from '../../core/model';
import { ORCHESTRATORS } from '../../core/workflow/run';
import type { Logger } from '../../observability/logger';
import type { RunIndex, RunIndexEntry, RunIndexPosition } from '../../ports/runIndex';
import { workflowView } from '../../api/schemas';
import { isFinished } from '../../core/workflow/run';
import type { RunControl, RunRecord } from './runControl';
import { factsOf, viewOf, type WorkflowView } from './views';

/**
 * Keeping the run index (src/ports/runIndex.ts) in step with the durable state. Writers:
 * submit adds the row before the run starts; the launch activity marks it Running; the
 * cleanup request (every run's last step) marks its end. A run that ended without its
 * last step (an orchestration that crashed or was terminated) is corrected whenever its
 * status is read (GET, a listed page, a lease-end check, the retention pass): a finished
 * status is final, so a correction never goes back.
 */

/** Runtime states after which an orchestration writes nothing more. */
const ENDED = new Set(['Completed', 'Failed', 'Terminated', 'Canceled']);

/**
 * Writes what the durable state says when the index says otherwise; once the orchestration
 * has ended, keeps its final view too, so later listings read nothing but the index.
 */
export async function reconcile(index: RunIndex, record: RunRecord, view: WorkflowView, now: Date, known?: RunIndexEntry): Promise<void> {
  const entry = known ?? (await index.get(view.id));
  if (entry === undefined) return;
  if (ENDED.has(record.runtimeStatus) && isFinished(view.status)) {
    if (entry.finalView === undefined) await index.saveFinalView(view.id, view.status, now, JSON.stringify(view));
  } else if (entry.status !== view.status) await index.setStatus(view.id, view.status, now);
}

/** The final view an index row keeps, checked (it is read back untyped); undefined when
 * there is none, or it no longer parses (the caller then reads the durable state). */
export function finalViewOf(entry: RunIndexEntry): WorkflowView | undefined {
  if (entry.finalView === undefined) return undefined;
  try {
    const parsed = workflowView.safeParse(JSON.parse(entry.finalView));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Adds the runs started before the index existed, once: the one full scan of durable
 * instances, at the first use after an upgrade. Repeats (two callers at once, a crash
 * half way) are harmless, since adding keeps a stored row.
 */
export async function ensureIndexed(index: RunIndex, runs: RunControl, log: Logger): Promise<void> {
  if (await index.backfilled()) return;
  let added = 0;
  for (const listed of await runs.list()) {
    if (listed.name !== ORCHESTRATORS.workflow) continue;
    const record = factsOf(listed) === undefined ? await runs.get(listed.instanceId) : listed;
    const facts = record === undefined ? undefined : factsOf(record);
    if (record === undefined || facts === undefined) continue;
    const view = viewOf(record, facts);
    await index.add({
      id: record.instanceId,
      org: facts.owner.org,
      user: facts.owner.user,
      createdAt: record.createdAt,
      status: view.status,
      datasetIds: facts.datasetIds,
    });
    added++;
  }
  await index.markBackfilled();
  log.info({ runs: added }, 'run index: runs from before the index added');
}

/** The status a listing was filtered by, bound into its cursor. */
const cursorSchema = z.strictObject({ o: z.string(), s: z.enum(WORKFLOW_STATUSES).nullable(), c: z.string(), i: z.string() });

/**
 * Cursors are signed (HMAC-SHA256 with a platform key) and bound to the caller's
 * organization and the listing's status filter: the query is scoped to the caller's
 * organization anyway, but a cursor the client edited is refused (400) rather than
 * trusted as a position.
 */
export function listCursors(key: Buffer) {
  const mac = (payload: string) => createHmac('sha256', key).update(payload).digest();
  return {
    encode(caller: Caller, status: WorkflowStatus | undefined, at: RunIndexPosition): string {
      const payload = Buffer.from(JSON.stringify({ o: caller.org, s: status ?? null, c: at.createdAt, i: at.id })).toString('base64url');
      return `${payload}.${mac(payload).toString('base64url')}`;
    },
    decode(caller: Caller, status: WorkflowStatus | undefined, cursor: string): RunIndexPosition {
      const [payload, signature, extra] = cursor.split('.');
      if (payload !== undefined && signature !== undefined && extra === undefined) {
        const given = Buffer.from(signature, 'base64url');
        const expected = mac(payload);
        if (given.length === expected.length && timingSafeEqual(given, expected)) {
          const parsed = cursorSchema.safeParse(safeJson(Buffer.from(payload, 'base64url').toString('utf8')));
          if (parsed.success && parsed.data.o === caller.org && parsed.data.s === (status ?? null)) return { createdAt: parsed.data.c, id: parsed.data.i };
        }
      }
      throw new LedgerflowError('validation_failed', 'invalid paging', { details: [{ path: 'cursor', message: 'is not a cursor from this listing' }] });
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
