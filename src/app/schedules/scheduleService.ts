import { randomBytes } from 'node:crypto';
import { forbidden, LedgerflowError, notFound, validationError } from '../../core/errors';
import type { Caller } from '../../core/model';
import {
  publishedOf,
  SCHEDULE_EVENTS,
  SCHEDULE_ORCHESTRATOR,
  scheduleIdFor,
  type DatasetUpdated,
  type PublishedSchedule,
  type ScheduleControl,
  type ScheduleOptions,
  type ScheduleRun,
  type ScheduleState,
} from '../../core/schedules/schedule';
import { datasetIdsOf, parseWorkflowSpec } from '../../core/workflow/spec';
import type { Logger } from '../../observability/logger';
import type { Ledger } from '../../ports/ledger';
import { storedNcrontab } from '../../time/ncrontab';
import type { RunControl, RunRecord } from '../workflows/runControl';
import { runStatus } from './tick';

/** POST /schedules, as validated at the edge (src/api/scheduleRequests.ts). */
export interface NewSchedule {
  name: string;
  workflow: string;
  files: Record<string, string>;
  schedule?: string | undefined;
  trigger?: { datasetUpdated: string } | undefined;
  enabled: boolean;
  options: ScheduleOptions;
}

export interface SchedulePatch {
  enabled?: boolean | undefined;
  schedule?: string | undefined;
  name?: string | undefined;
}

/** A schedule as GET /schedules/{id} shows it. */
export interface ScheduleView {
  id: string;
  name: string;
  creator: { user: string; org: string };
  workflow: string;
  fileCount: number;
  schedule?: string;
  trigger?: { datasetUpdated: string };
  enabled: boolean;
  options: ScheduleOptions;
  createdAt: string;
  /** Time schedules: the next tick while enabled; null otherwise. */
  nextRunAt: string | null;
  runs: ScheduleRun[];
}

export interface ScheduleServiceDeps {
  ledger: Ledger;
  runs: RunControl;
  log: Logger;
  now?: () => Date;
  /** How long PATCH and DELETE wait for the schedule's orchestration to take the change. */
  applyTimeoutMs?: number;
}

/** Run statuses that no longer change: a view does not look them up again. */
const ENDED = new Set(['Succeeded', 'Failed', 'Canceled', 'Rejected', 'Skipped', 'Missed']);

const RESEND_MS = 3_000;

/** Runtime statuses of a schedule that is in force (an eternal orchestration between steps). */
const LIVE = ['Running', 'Pending', 'ContinuedAsNew'];

/**
 * Schedules and data triggers over the durable backend only: each schedule is an eternal
 * orchestration (orchestrators/scheduleOrchestrator.ts) whose input carries its definition
 * and recorded runs, and whose custom status (without the code files) is what reads show.
 * Visible to the creator's organization alone; to anyone else a schedule does not exist.
 */
export class ScheduleService {
  private readonly now: () => Date;
  constructor(private readonly deps: ScheduleServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async create(caller: Caller, input: NewSchedule): Promise<ScheduleView> {
    let spec;
    try {
      spec = parseWorkflowSpec(input.workflow);
    } catch (err) {
      if (err instanceof LedgerflowError)
        throw new LedgerflowError(err.code, err.message, { details: (err.details ?? []).map((d) => ({ ...d, path: `workflow.${d.path}` })) });
      throw err;
    }
    const session = this.deps.ledger.as(caller);
    // A lessee or owner of what it runs on: the lease is checked again at every tick.
    const datasetIds = [...new Set([...datasetIdsOf(spec), ...(input.trigger === undefined ? [] : [input.trigger.datasetUpdated])])];
    let lastVersion: number | undefined;
    for (const id of datasetIds) {
      const dataset = await session.getDataset(id);
      if (dataset === undefined || dataset.deletedAt !== undefined) throw notFound(`dataset ${id}`);
      const lessee = dataset.lease !== undefined && dataset.lease.holder.org === caller.org && dataset.lease.holder.user === caller.user;
      if (dataset.owner.org !== caller.org && !lessee) throw forbidden(`dataset ${id} is neither owned by the caller's organization nor leased by the caller`);
      // A trigger fires for versions after its creation, not for the one in place.
      if (id === input.trigger?.datasetUpdated) lastVersion = dataset.version ?? 1;
    }
    const id = scheduleIdFor(caller.org, randomBytes(16).toString('hex'));
    const state: ScheduleState = {
      definition: {
        id,
        name: input.name,
        creator: { user: caller.user, org: caller.org },
        workflow: input.workflow,
        files: input.files,
        ...(input.schedule !== undefined && { schedule: input.schedule.trim() }),
        ...(input.trigger !== undefined && { trigger: input.trigger }),
        enabled: input.enabled,
        options: input.options,
        createdAt: this.now().toISOString(),
      },
      runs: [],
      ...(lastVersion !== undefined && { lastVersion }),
    };
    await this.deps.runs.start(SCHEDULE_ORCHESTRATOR, id, state);
    this.deps.log.info({ scheduleId: id, org: caller.org, schedule: input.schedule, trigger: input.trigger }, 'schedule created');
    return this.viewOf(publishedOf(state));
  }

  /** The caller's organization's schedules, newest first. */
  async list(caller: Caller): Promise<ScheduleView[]> {
    const records = await this.deps.runs.list(LIVE);
    const mine = records.flatMap((r) => {
      const published = publishedOfRecord(r);
      return published !== undefined && published.definition.creator.org === caller.org ? [published] : [];
    });
    mine.sort((a, b) => (a.definition.createdAt < b.definition.createdAt ? 1 : a.definition.createdAt > b.definition.createdAt ? -1 : 0));
    return Promise.all(mine.map((p) => this.viewOf(p)));
  }

  async get(caller: Caller, id: string): Promise<ScheduleView> {
    return this.viewOf(await this.visible(caller, id));
  }

  /** Applies the change in the schedule's orchestration and answers once it has taken it. */
  async patch(caller: Caller, id: string, patch: SchedulePatch): Promise<ScheduleView> {
    const current = await this.visible(caller, id);
    if (patch.schedule !== undefined && current.definition.schedule === undefined) {
      throw validationError('invalid schedule change', [{ path: 'schedule', message: 'a data trigger takes no time schedule' }]);
    }
    const control: ScheduleControl = {
      id: randomBytes(8).toString('hex'),
      op: 'patch',
      ...(patch.enabled !== undefined && { enabled: patch.enabled }),
      ...(patch.schedule !== undefined && { schedule: patch.schedule.trim() }),
      ...(patch.name !== undefined && { name: patch.name }),
    };
    const applied = await this.apply(id, control, (r) => publishedOfRecord(r)?.lastControl === control.id);
    this.deps.log.info({ scheduleId: id, by: caller, patch }, 'schedule changed');
    return this.viewOf(applied === undefined ? current : (publishedOfRecord(applied) ?? current));
  }

  /** Ends the schedule's orchestration; runs it submitted are not touched. */
  async delete(caller: Caller, id: string): Promise<void> {
    await this.visible(caller, id);
    const control: ScheduleControl = { id: randomBytes(8).toString('hex'), op: 'delete' };
    await this.apply(id, control, (r) => !LIVE.includes(r.runtimeStatus));
    this.deps.log.info({ scheduleId: id, by: caller }, 'schedule deleted');
  }

  /**
   * Hands a new dataset version to every schedule triggered by it (from the ledger's
   * DatasetContentUpdated event, ledgerFollower.ts). A schedule takes each version once
   * (it keeps the last version it handled), so an event delivered again does nothing.
   */
  async deliverDatasetUpdate(update: DatasetUpdated): Promise<string[]> {
    const delivered: string[] = [];
    for (const record of await this.deps.runs.list(LIVE)) {
      const published = publishedOfRecord(record);
      if (published?.definition.trigger?.datasetUpdated !== update.datasetId) continue;
      if ((published.lastVersion ?? 0) >= update.version) continue;
      await this.deps.runs.raise(record.instanceId, SCHEDULE_EVENTS.datasetUpdated, update);
      delivered.push(record.instanceId);
    }
    if (delivered.length > 0) this.deps.log.info({ ...update, schedules: delivered }, 'dataset version delivered to its triggers');
    return delivered;
  }

  private async visible(caller: Caller, id: string): Promise<PublishedSchedule> {
    const record = await this.deps.runs.get(id);
    const published = record === undefined || !LIVE.includes(record.runtimeStatus) ? undefined : publishedOfRecord(record);
    // A schedule that has not published yet (just created) reads from its input.
    const found = published ?? (record !== undefined && LIVE.includes(record.runtimeStatus) ? inputOf(record) : undefined);
    if (found === undefined || found.definition.creator.org !== caller.org) throw notFound(`schedule ${id}`);
    return found;
  }

  /**
   * Sends the change and waits until the schedule shows it taken. The change is sent again
   * every few seconds while it does not show: a backend may drop an event that arrives while
   * the orchestration continues as new (Durable Functions discards unprocessed events there
   * unless told otherwise). Applying a change twice is harmless: it is named by its id.
   */
  private async apply(id: string, control: ScheduleControl, done: (r: RunRecord) => boolean): Promise<RunRecord | undefined> {
    const deadline = Date.now() + (this.deps.applyTimeoutMs ?? 15_000);
    await this.deps.runs.raise(id, SCHEDULE_EVENTS.control, control);
    let resendAt = Date.now() + RESEND_MS;
    for (;;) {
      const record = await this.deps.runs.get(id);
      if (record === undefined || done(record)) return record;
      if (Date.now() > deadline) {
        throw new LedgerflowError('unavailable', `schedule ${id} has not taken the change yet; it will when its host runs it`);
      }
      if (Date.now() >= resendAt) {
        resendAt = Date.now() + RESEND_MS;
        // It may have ended meanwhile (a delete taken): the next read says so.
        await this.deps.runs.raise(id, SCHEDULE_EVENTS.control, control).catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The view, with the current status of runs not known to have ended. */
  private async viewOf(p: PublishedSchedule): Promise<ScheduleView> {
    const d = p.definition;
    const runs = await Promise.all(
      p.runs.map(async (run) => {
        if (run.workflowId === null || ENDED.has(run.status)) return run;
        const status = await runStatus(this.deps.runs, run.workflowId);
        if (status === undefined) return run;
        const { reason: _reason, ...rest } = run;
        return { ...rest, status, ...(status === 'AwaitingApproval' && { reason: 'awaiting approval' }) };
      }),
    );
    const nextRunAt =
      d.schedule !== undefined && d.enabled
        ? (storedNcrontab(d.schedule)
            ?.nextAfter(new Date(p.lastTick ?? d.createdAt))
            .toISOString() ?? null)
        : null;
    return {
      id: d.id,
      name: d.name,
      creator: d.creator,
      workflow: d.workflow,
      fileCount: d.fileCount,
      ...(d.schedule !== undefined && { schedule: d.schedule }),
      ...(d.trigger !== undefined && { trigger: d.trigger }),
      enabled: d.enabled,
      options: d.options,
      createdAt: d.createdAt,
      nextRunAt,
      runs,
    };
  }
}

/** The durable store's JSON is read back untyped: a schedule is recognized by its shape. */
function isPublished(value: unknown): value is PublishedSchedule {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { definition?: { id?: unknown; creator?: { org?: unknown } }; runs?: unknown };
  return typeof v.definition?.id === 'string' && typeof v.definition.creator?.org === 'string' && Array.isArray(v.runs);
}

function publishedOfRecord(record: RunRecord): PublishedSchedule | undefined {
  return record.name === SCHEDULE_ORCHESTRATOR && isPublished(record.customStatus) ? record.customStatus : undefined;
}

function inputOf(record: RunRecord): PublishedSchedule | undefined {
  if (record.name !== SCHEDULE_ORCHESTRATOR || !isPublished(record.input)) return undefined;
  return publishedOf(record.input as unknown as ScheduleState);
}
