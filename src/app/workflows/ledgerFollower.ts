import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { ledgerEventSchemas } from '../../api/ledgerRecords';
import { leaseEndedReason, type LeaseEnd } from '../../core/workflow/leases';
import { leaseExpiryInstanceId, ORCHESTRATORS, WORKFLOW_EVENTS, type CancelRequest, type LeaseExpiryInput } from '../../core/workflow/run';
import type { Caller } from '../../core/model';
import type { DatasetUpdated } from '../../core/schedules/schedule';
import { writeFileAtomic } from '../../fs/atomicFile';
import type { Logger } from '../../observability/logger';
import type { Ledger, LedgerEvent } from '../../ports/ledger';
import type { RunIndex } from '../../ports/runIndex';
import type { RunControl } from './runControl';
import { ensureIndexed } from './runIndexing';
import { factsOf, viewOf } from './views';

/**
 * Runs follow the ledger, whatever path changed it. A lease can end through the API, the
 * platform's expiry timer, or any member's own Fabric client; all of them leave a chaincode
 * event, so the platform reads the chaincode-event stream (from a checkpoint persisted in
 * the data dir, so no event is missed across restarts) and, for every dataset whose lease
 * ended, was taken over, or which was deleted, cancels the runs the ledger no longer allows,
 * each with a message naming the dataset and why. For every lease in force that it sees, it
 * also makes sure the lease's exact expiry timer exists.
 */

/** What one chaincode event did to a dataset's lease, in the words a canceled run shows. */
export interface LeaseChange {
  datasetId: string;
  end: LeaseEnd;
}

/** The events that can end a run's lease, and what each did (payloads parsed with the
 * ledger contract's schemas). A new lease (`LeaseTaken`) ends a run only when it replaced
 * one that had run out. */
const EVENT_CHANGES: Record<string, (payload: unknown) => LeaseChange[]> = {
  LeaseReleased: (p) => {
    const released = ledgerEventSchemas.LeaseReleased.parse(p);
    // Events recorded before the chaincode said who released carry no `releasedAs`.
    const end = released.releasedAs === undefined ? 'lease released' : (`lease released by its ${released.releasedAs}` as const);
    return [{ datasetId: released.datasetId, end }];
  },
  LeaseTaken: (p) => [{ datasetId: ledgerEventSchemas.LeaseTaken.parse(p).datasetId, end: 'lease expired' }],
  LeasesExpired: (p) => ledgerEventSchemas.LeasesExpired.parse(p).leases.map((l) => ({ datasetId: l.datasetId, end: 'lease expired' as const })),
  DatasetDeleted: (p) => [{ datasetId: ledgerEventSchemas.DatasetDeleted.parse(p).dataset.id, end: 'dataset deleted' }],
};

/** The lease changes the event made; [] for any other event. */
export function leaseChangesOf(event: LedgerEvent): LeaseChange[] {
  const changes = EVENT_CHANGES[event.name];
  return changes === undefined ? [] : changes(event.payload);
}

/** Which of two changes in one pass names the run's end: a deletion outranks the rest, a
 * takeover (which only says the old lease had run out) ranks last, otherwise the first. */
const TAKEOVER = 0;
const rank = (event: string): number => (event === 'DatasetDeleted' ? 2 : event === 'LeaseTaken' ? TAKEOVER : 1);

/** Where reading resumes: the last event handled (fabric-gateway's checkpoint: its block,
 * and the transaction to skip through in it). */
export interface EventCheckpoint {
  blockNumber: bigint;
  transactionId: string;
}

export interface CheckpointStore {
  load(): Promise<EventCheckpoint | undefined>;
  save(checkpoint: EventCheckpoint): Promise<void>;
}

const checkpointSchema = z.object({ blockNumber: z.string().regex(/^\d+$/), transactionId: z.string() });

/** A checkpoint in one small file, replaced atomically. */
export function fileCheckpointStore(path: string): CheckpointStore {
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
      const saved = checkpointSchema.parse(JSON.parse(text));
      return { blockNumber: BigInt(saved.blockNumber), transactionId: saved.transactionId };
    },
    async save({ blockNumber, transactionId }) {
      await mkdir(dirname(path), { recursive: true });
      await writeFileAtomic(path, Buffer.from(JSON.stringify({ blockNumber: blockNumber.toString(), transactionId })));
    },
  };
}

export interface FollowDeps {
  ledger: Ledger;
  /** Reads the lease in force (the platform identity). */
  platform: Caller;
  runs: RunControl;
  index: RunIndex;
  checkpoints: CheckpointStore;
  log: Logger;
  /** A pass ends once the stream has been quiet this long (it never ends by itself). */
  idleMs?: number;
  /** At most this many events per pass; the next pass resumes after them. */
  maxEvents?: number;
  /** Hands each dataset's newest content version read in the pass to the data triggers
   * (ScheduleService.deliverDatasetUpdate); repeated deliveries are harmless. */
  deliverVersion?: (update: DatasetUpdated) => Promise<unknown>;
}

/**
 * One pass over the events since the checkpoint: cancels what they call for, then moves the
 * checkpoint past them (after the cancels, so a crash in between repeats the pass rather
 * than skipping it; the cancels are decided from current state, so a repeat is harmless).
 * With no checkpoint yet it starts at the oldest block, for the same reason.
 */
export async function followLedger(deps: FollowDeps): Promise<{ events: number; canceled: string[] }> {
  const from = await deps.checkpoints.load();
  const abort = new AbortController();
  // Cancels wait for the stream to go quiet, so this adds to every revocation's delay.
  const idleMs = deps.idleMs ?? 200;
  const maxEvents = deps.maxEvents ?? 1000;
  let idle = setTimeout(() => abort.abort(), idleMs);
  const changes = new Map<string, { change: LeaseChange; rank: number }>();
  const versions = new Map<string, number>();
  let last: LedgerEvent | undefined;
  let events = 0;
  try {
    const stream = deps.ledger.events({
      startBlock: from?.blockNumber ?? 0n,
      ...(from === undefined ? {} : { afterTransactionId: from.transactionId }),
      signal: abort.signal,
    });
    for await (const event of stream) {
      clearTimeout(idle);
      events++;
      last = event;
      const version = versionOf(event, deps.log);
      if (version !== undefined && version.version > (versions.get(version.datasetId) ?? 0)) versions.set(version.datasetId, version.version);
      for (const change of changesOf(event, deps.log)) {
        const seen = changes.get(change.datasetId);
        if (seen === undefined || rank(event.name) > seen.rank) changes.set(change.datasetId, { change, rank: rank(event.name) });
      }
      if (events >= maxEvents) break;
      idle = setTimeout(() => abort.abort(), idleMs);
    }
  } finally {
    clearTimeout(idle);
  }
  const canceled: string[] = [];
  if (changes.size > 0) await ensureIndexed(deps.index, deps.runs, deps.log);
  const session = deps.ledger.as(deps.platform);
  for (const [datasetId, { change, rank: seen }] of changes) {
    // A deleted dataset has no lease (its lease key ends with it). A failure here fails
    // the pass before the checkpoint moves, so the next pass repeats it.
    const lease = await session.getLease(datasetId);
    // A takeover says why only while the new lease is in force; with none in force now, the
    // lease ended after the events read, by an event the next pass reads, which says why.
    const endedUnread = seen === TAKEOVER && lease === undefined;
    if (!endedUnread) {
      const reason = leaseEndedReason(datasetId, change.end);
      canceled.push(...(await cancelRunsOutsideLease(datasetId, lease?.holder, reason, deps.runs, deps.index, deps.log)));
    }
    if (lease !== undefined) await startExpiryTimer({ datasetId, expiresAt: lease.expiresAt }, deps.runs, deps.log);
  }
  // Before the checkpoint moves: a crash in between delivers again, which triggers ignore.
  if (deps.deliverVersion !== undefined) for (const [datasetId, version] of versions) await deps.deliverVersion({ datasetId, version });
  if (last !== undefined) await deps.checkpoints.save({ blockNumber: last.blockNumber, transactionId: last.txId });
  return { events, canceled };
}

/** The new content version a `DatasetContentUpdated` event announces (chaincode UpdateDatasetContent). */
function versionOf(event: LedgerEvent, log: Logger): DatasetUpdated | undefined {
  if (event.name !== 'DatasetContentUpdated') return undefined;
  const parsed = ledgerEventSchemas.DatasetContentUpdated.safeParse(event.payload);
  if (!parsed.success) {
    log.error({ txId: event.txId, event: event.name }, 'chaincode event with an unexpected payload');
    return undefined;
  }
  return { datasetId: parsed.data.datasetId, version: parsed.data.version };
}

function changesOf(event: LedgerEvent, log: Logger): LeaseChange[] {
  try {
    return leaseChangesOf(event);
  } catch (err) {
    // Our own chaincode wrote it; a payload we cannot read is logged and skipped, not retried forever.
    log.error({ err, txId: event.txId, event: event.name }, 'chaincode event with an unexpected payload');
    return [];
  }
}

/**
 * Cancels every running run that mounts the dataset and is not its current holder's
 * (`holder` undefined: the dataset has no lease in force). Decided from the lease in force
 * now, not from the event, so a replayed or late event cancels nothing the ledger allows.
 */
export async function cancelRunsOutsideLease(
  datasetId: string,
  holder: Caller | undefined,
  reason: string,
  runs: RunControl,
  index: RunIndex,
  log: Logger,
): Promise<string[]> {
  const canceled: string[] = [];
  // The index names the runs on the dataset not known to have ended; each is then checked
  // against its durable state, which also corrects the index for a run that ended unseen.
  for (const row of await index.unfinishedOn(datasetId)) {
    if (holder !== undefined && row.user === holder.user && row.org === holder.org) continue;
    const record = await runs.get(row.id);
    const facts = record === undefined || record.name !== ORCHESTRATORS.workflow ? undefined : factsOf(record);
    if (record === undefined || facts === undefined) continue;
    if (record.runtimeStatus !== 'Pending' && record.runtimeStatus !== 'Running') {
      await index.setStatus(row.id, viewOf(record, facts).status, new Date());
      continue;
    }
    const cancel: CancelRequest = { reason };
    await runs.raise(row.id, WORKFLOW_EVENTS.cancel, cancel);
    canceled.push(row.id);
  }
  if (canceled.length > 0) log.info({ datasetId, workflows: canceled, reason }, 'runs canceled: their lease ended on the ledger');
  return canceled;
}

/** Starts the lease's exact expiry timer (orchestrators/leaseExpiryOrchestrator.ts) unless it
 * exists: its instance id is derived from the lease, so a repeated pass starts nothing twice. */
export async function startExpiryTimer(lease: LeaseExpiryInput, runs: RunControl, log: Logger): Promise<void> {
  const id = leaseExpiryInstanceId(lease);
  if ((await runs.get(id)) !== undefined) return;
  await runs.start(ORCHESTRATORS.leaseExpiry, id, lease);
  log.info({ datasetId: lease.datasetId, expiresAt: lease.expiresAt }, 'lease expiry timer set');
}
