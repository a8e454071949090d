import * as df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import { errorMessage } from '../src/core/errors';
import {
  publishedOf,
  SCHEDULE_EVENTS,
  SCHEDULE_ORCHESTRATOR,
  tickWorkflowId,
  withRun,
  type DatasetUpdated,
  type ScheduleControl,
  type ScheduleRun,
  type ScheduleState,
} from '../src/core/schedules/schedule';
import { storedNcrontab } from '../src/time/ncrontab';
import { call } from './activities/define';
import { scheduleTick } from './activities/schedules';
import { nowIso, withRetries } from './retry';

/** Past this many overdue ticks (the host was down), the earlier ones are recorded as one entry. */
const MAX_MISSED_ENTRIES = 10;

/**
 * One schedule (instance id = schedule id), eternal: each execution waits for the next tick
 * (a durable timer at the schedule's next occurrence), a new version of the watched dataset
 * (an event the ledger follower raises from the chaincode's DatasetContentUpdated event), or
 * a change (PATCH, DELETE); handles it; and continues as new with the state, so its history
 * stays one step long. The timer and the state live in the durable store: a host that
 * stops or crashes fires an overdue tick when it is back. Each tick's run has an id derived
 * from the tick, and the tick is recorded in the state it continues with, so no tick runs
 * twice; overdue ticks beyond the latest (the host was down through them) are recorded as
 * missed, not run in a burst. Deterministic: time only from the context, I/O only through
 * the tick activity.
 */
export function* scheduleOrchestrator(context: OrchestrationContext): Generator<Task, { deleted: true }, unknown> {
  const state = context.df.getInput<ScheduleState>();
  const definition = state.definition;
  context.df.setCustomStatus(publishedOf(state));
  const control = context.df.waitForExternalEvent(SCHEDULE_EVENTS.control);
  const waits: Task[] = [control];
  const updated = definition.trigger === undefined ? undefined : context.df.waitForExternalEvent(SCHEDULE_EVENTS.datasetUpdated);
  if (updated !== undefined) waits.push(updated);
  const cron = definition.schedule === undefined || !definition.enabled ? undefined : storedNcrontab(definition.schedule);
  const due = cron?.nextAfter(new Date(state.lastTick ?? definition.createdAt));
  const timer = due === undefined ? undefined : context.df.createTimer(due);
  if (timer !== undefined) waits.push(timer);

  const winner = yield context.df.Task.any(waits);
  const now = context.df.currentUtcDateTime;
  if (winner === control) {
    if (timer !== undefined && !timer.isCompleted) timer.cancel();
    const change = control.result as ScheduleControl;
    if (change.op === 'delete') return { deleted: true };
    // The same change sent again (ScheduleService re-sends one it does not see taken): taken once.
    if (change.id === state.lastControl) {
      context.df.continueAsNew(state);
      return { deleted: true };
    }
    const restarts = (change.enabled === true && !definition.enabled) || (change.schedule !== undefined && change.schedule !== definition.schedule);
    if (change.enabled !== undefined) definition.enabled = change.enabled;
    if (change.schedule !== undefined) definition.schedule = change.schedule;
    if (change.name !== undefined) definition.name = change.name;
    // Ticks that passed while disabled, or under the old schedule, are not owed.
    if (restarts && definition.schedule !== undefined) state.lastTick = now.toISOString();
    state.lastControl = change.id;
  } else if (updated !== undefined && winner === updated) {
    if (timer !== undefined && !timer.isCompleted) timer.cancel();
    const update = updated.result as DatasetUpdated;
    if (update.datasetId === definition.trigger?.datasetUpdated && update.version > (state.lastVersion ?? 0)) {
      state.lastVersion = update.version;
      if (definition.enabled) state.runs = withRun(state.runs, yield* tick(context, state, { version: update.version }));
    }
  } else if (cron !== undefined && due !== undefined) {
    // The ticks due by now, oldest first: more than one only after the host was down.
    const dueTicks = [due];
    for (let next = cron.nextAfter(due); next.getTime() <= now.getTime() && dueTicks.length <= MAX_MISSED_ENTRIES + 1; next = cron.nextAfter(next)) {
      dueTicks.push(next);
    }
    let latest = dueTicks[dueTicks.length - 1]!;
    if (dueTicks.length > MAX_MISSED_ENTRIES + 1) {
      for (let next = cron.nextAfter(latest); next.getTime() <= now.getTime(); next = cron.nextAfter(next)) latest = next;
    }
    const missed = dueTicks.filter((t) => t.getTime() < latest.getTime());
    if (missed.length > MAX_MISSED_ENTRIES) {
      state.runs = withRun(state.runs, {
        workflowId: null,
        status: 'Missed',
        submittedAt: now.toISOString(),
        tick: missed[0]!.toISOString(),
        reason: `the platform was not running from ${missed[0]!.toISOString()} to ${latest.toISOString()}: the ticks in between did not run`,
      });
    } else {
      for (const t of missed) {
        state.runs = withRun(state.runs, {
          workflowId: null,
          status: 'Missed',
          submittedAt: now.toISOString(),
          tick: t.toISOString(),
          reason: 'the platform was not running at the tick',
        });
      }
    }
    state.runs = withRun(state.runs, yield* tick(context, state, { at: latest.toISOString() }));
    state.lastTick = latest.toISOString();
  }
  context.df.continueAsNew(state);
  return { deleted: true }; // not reached: continue-as-new replaces the result
}

/** Runs one tick through the activity; a tick whose submission keeps failing is recorded, not lost. */
function* tick(context: OrchestrationContext, state: ScheduleState, at: { at: string } | { version: number }): Generator<Task, ScheduleRun, unknown> {
  const { definition } = state;
  const workflowId = tickWorkflowId(definition.id, at);
  const previous = definition.options.overlap === 'skip' ? state.runs.find((r) => r.workflowId !== null)?.workflowId : undefined;
  const where = 'at' in at ? { tick: at.at } : { version: at.version };
  try {
    const outcome = yield* withRetries(context, () =>
      call(scheduleTick, { definition, workflowId, ...(previous !== undefined && previous !== null && { previousWorkflowId: previous }) }),
    );
    return { ...outcome, submittedAt: nowIso(context), ...where };
  } catch (err) {
    return { workflowId: null, status: 'Skipped', submittedAt: nowIso(context), ...where, reason: `the run could not be submitted: ${errorMessage(err)}` };
  }
}

export const scheduleOrchestration = df.app.orchestration(SCHEDULE_ORCHESTRATOR, scheduleOrchestrator);
