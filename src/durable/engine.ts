import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { insufficientStorage, isDiskFull, LedgerflowError } from '../core/errors';
import type { Logger } from '../observability/logger';
import { parseOrchestratorFailure, parseOrchestratorState, type OrchestratorResult } from './actions';
import {
  event,
  EventType,
  fromJsonText,
  isTerminal,
  toJsonText,
  type HistoryEvent,
  type InboxEvent,
  type RuntimeStatus,
} from './history';
import type { FunctionPort, OrchestrationTriggerInput } from './ports';
import { admit, applyEvent, decide, emptyState, foldHistory, type Effect, type ReplayState } from './replay';
import type { ActivityItem, DurableStore, InstanceQuery, InstanceRow, StoredMessage, WriteBatch } from './store';

/**
 * The scheduler: a loop over data. Every change is a `WriteBatch` committed to the store
 * (grouped: one transaction per scheduler turn) before anything acts on it; memory holds
 * only a cache of the active instances (history, replay state, inbox) rebuilt from the
 * store on start.
 *
 * - One episode at a time per instance; everything in its inbox when the episode starts
 *   goes into it (activity completions included), so a fan-in of many results costs few
 *   replays.
 * - Activities run in parallel up to `maxConcurrentActivities`. An activity's completion
 *   is recorded by the episode that consumes it, in the same transaction that deletes its
 *   work item; after a crash, items still in the store run again (at-least-once).
 */
export interface EngineOptions {
  store: DurableStore;
  functions: FunctionPort;
  maxConcurrentActivities?: number;
  maxConcurrentOrchestrations?: number;
  /** How long an activity work item stays leased to this process without renewal. */
  leaseMs?: number;
  logger?: Logger;
  /** Called when a commit fails: memory is then ahead of the store, so the default crashes. */
  onFatal?: (err: unknown) => void;
}

interface InboxItem {
  event: InboxEvent;
  visibleAt: number;
  /** Row in `messages` to delete when consumed. */
  messageId?: number | undefined;
  /** The same, for a message whose row is being committed (its id is known only then). */
  stored?: StoredMessage | undefined;
  /** Row in `activities` to delete when this completion is consumed. */
  activityId?: number | undefined;
  /**
   * A raised event not yet in the store: the next episode commits it (in its history when
   * it admits it, else as a message row), then settles the sender's promise.
   */
  ticket?: { resolve: () => void; reject: (e: unknown) => void } | undefined;
}

interface Live {
  row: InstanceRow;
  state: ReplayState;
  /** Number of events in the stored history of the current execution. */
  historyLength: number;
  /**
   * JSON text of the history events the SDK reads when it replays (the others it skips),
   * kept between episodes so an episode serialises only its new events.
   */
  replay: string[];
  inbox: InboxItem[];
  busy: boolean;
  queued: boolean;
  /** Nothing in the inbox can be admitted until a new message arrives (suspended). */
  parked: boolean;
  /** When a wake-up for this instance's next timer is already due. */
  wakeAt: number;
}

export interface StatusOptions {
  showHistory?: boolean;
}

export interface InstanceStatus {
  row: InstanceRow;
  history?: HistoryEvent[];
}

/** The fixed fields of the orchestration trigger input (`DurableOrchestrationBindingInfo`). */
const TRIGGER_FIXED: Omit<OrchestrationTriggerInput, 'history' | 'input' | 'instanceId' | 'parentInstanceId'> = {
  isReplaying: false,
  // ReplaySchema.V2: actions come nested as the SDK built them; timers are never split, so
  // the long-timer durations (which the SDK parses with moment on every replay) are left out.
  upperSchemaVersion: 1,
  defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
};
const TRIGGER_TAIL = `,${JSON.stringify(TRIGGER_FIXED).slice(1)}`;

/** Events the SDK's replay acts on; it skips the scheduling records (TaskScheduled, ...). */
const SDK_READS = new Set<number>([
  EventType.OrchestratorStarted,
  EventType.ExecutionStarted,
  EventType.TaskCompleted,
  EventType.TaskFailed,
  EventType.SubOrchestrationInstanceCompleted,
  EventType.SubOrchestrationInstanceFailed,
  EventType.TimerFired,
  EventType.EventRaised,
  EventType.EventSent,
]);
const sdkReads = (e: HistoryEvent): boolean => SDK_READS.has(e.EventType);
// `event()` puts IsPlayed before any user data, so the first match is the flag itself.
const NOT_PLAYED = '"IsPlayed":false';
const PLAYED = '"IsPlayed":true';

export class DurableEngine {
  private readonly store: DurableStore;
  private readonly fns: FunctionPort;
  private readonly maxActivities: number;
  private readonly maxOrchestrations: number;
  private readonly leaseMs: number;
  private readonly log: Logger | undefined;
  private readonly onFatal: (err: unknown) => void;
  private readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  private readonly lives = new Map<string, Live>();
  private readyQueue: Live[] = [];
  private episodesRunning = 0;
  private episodePumpScheduled = false;

  private activityQueue: ActivityItem[] = [];
  private activityHead = 0;
  private activitiesRunning = 0;

  private pendingWrites: { batch: WriteBatch; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private flushScheduled = false;
  /** Since when commits fail for want of space (they are retried until one succeeds). */
  private diskFullSince: number | undefined;

  private wakeups: { at: number; live: Live }[] = [];
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAt = Infinity;
  private leaseTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private closed = false;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly episodes = new Set<Promise<unknown>>();

  constructor(options: EngineOptions) {
    this.store = options.store;
    this.fns = options.functions;
    this.maxActivities = options.maxConcurrentActivities ?? 10;
    this.maxOrchestrations = options.maxConcurrentOrchestrations ?? 64;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.log = options.logger;
    this.onFatal =
      options.onFatal ??
      ((err) => {
        setImmediate(() => {
          throw err;
        });
      });
    this.store.lease = { owner: this.owner, until: () => Date.now() + this.leaseMs };
  }

  /** Loads the active instances and their pending work from the store and starts the loop. */
  start(): void {
    for (const { row, history, inbox } of this.store.loadActive()) {
      const live: Live = {
        row,
        state: foldHistory(row.instanceId, history),
        historyLength: history.length,
        replay: history.filter(sdkReads).map((e) => JSON.stringify(e)),
        inbox: inbox.map((m) => ({ event: m.event, visibleAt: m.visibleAt, messageId: m.id })),
        busy: false,
        queued: false,
        parked: false,
        wakeAt: Infinity,
      };
      this.lives.set(row.instanceId, live);
    }
    this.claimActivities();
    for (const live of this.lives.values()) this.kick(live);
    this.leaseTimer = setInterval(() => {
      try {
        this.store.renewLeases(this.owner, Date.now() + this.leaseMs);
        this.claimActivities();
      } catch (err) {
        // A full disk only delays the renewal to the next tick; anything else is fatal.
        if (isDiskFull(err)) this.log?.warn({ err: String(err) }, 'activity leases not renewed: the data disk is full');
        else this.onFatal(err);
      }
    }, Math.max(100, Math.floor(this.leaseMs / 3)));
    this.leaseTimer.unref();
    this.log?.info({ active: this.lives.size, activities: this.activityQueue.length - this.activityHead }, 'durable engine started');
  }

  /**
   * Shutdown, phase 1: no new episodes or activities; waits for the episodes in progress
   * (quick: a replay and a commit). Activities still running are the host's in-flight
   * invocations; results that arrive after this are not recorded and the activities run
   * again at the next start (at-least-once).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.leaseTimer);
    clearTimeout(this.wakeTimer);
    while (this.episodes.size > 0) await Promise.allSettled([...this.episodes]);
  }

  /** Shutdown, phase 2: commits what is pending and hands the leases back. */
  close(): void {
    // Raised events still waiting for an episode are stored as messages for the next start.
    for (const live of this.lives.values()) {
      const unstored = live.inbox.filter((m) => m.ticket !== undefined);
      if (unstored.length === 0) continue;
      const batch: WriteBatch = {};
      const settle = this.storeRaised(live, unstored, batch);
      void this.write(batch).then(settle, (err: unknown) => {
        for (const m of unstored) m.ticket?.reject(err);
      });
    }
    this.flush();
    this.closed = true;
    this.store.releaseLeases(this.owner);
  }

  // ---- client operations -------------------------------------------------------------

  async startNew(name: string, options: { instanceId?: string | undefined; input?: unknown } = {}): Promise<string> {
    this.refuseWhileDiskFull();
    if (!this.fns.hasOrchestrator(name)) throw new LedgerflowError('bad_request', `no orchestrator named '${name}' is registered`);
    const instanceId = options.instanceId ?? randomUUID().replace(/-/g, '');
    if (this.lives.has(instanceId)) throw new LedgerflowError('conflict', `instance '${instanceId}' already exists and is not finished`);
    const previous = this.store.getInstance(instanceId);
    const batch: WriteBatch = previous ? { deleteInstances: [instanceId] } : {};
    this.createInstance(batch, instanceId, name, toJsonText(options.input), undefined);
    await this.write(batch);
    return instanceId;
  }

  /**
   * Resolves once the event is committed. It goes straight into the inbox and the episode
   * that admits it commits it with its own history (one fsync for both, and no message row
   * to insert and delete); an episode that does not admit it stores it as a message.
   */
  async raiseEvent(instanceId: string, name: string, data: unknown): Promise<void> {
    this.refuseWhileDiskFull();
    const live = this.liveOrThrow(instanceId);
    const ev = event(EventType.EventRaised, new Date(), { Name: name, Input: toJsonText(data) });
    await new Promise<void>((resolve, reject) => {
      live.inbox.push({ event: ev, visibleAt: 0, ticket: { resolve, reject } });
      live.parked = false;
      this.kick(live);
    });
  }

  async terminate(instanceId: string, reason: string | undefined): Promise<void> {
    await this.send(instanceId, event(EventType.ExecutionTerminated, new Date(), { Input: toJsonText(reason) }));
  }

  async suspend(instanceId: string, reason: string | undefined): Promise<void> {
    await this.send(instanceId, event(EventType.ExecutionSuspended, new Date(), { Reason: reason }));
  }

  async resume(instanceId: string, reason: string | undefined): Promise<void> {
    await this.send(instanceId, event(EventType.ExecutionResumed, new Date(), { Reason: reason }));
  }

  getStatus(instanceId: string, options: StatusOptions = {}): InstanceStatus | undefined {
    const row = this.store.getInstance(instanceId);
    if (row === undefined) return undefined;
    return options.showHistory ? { row, history: this.store.getHistory(instanceId) } : { row };
  }

  listInstances(query: InstanceQuery): InstanceRow[] {
    return this.store.queryInstances(query);
  }

  /** Deletes a finished instance's state; returns how many instances were deleted. */
  async purge(instanceId: string): Promise<number> {
    const row = this.store.getInstance(instanceId);
    if (row === undefined) return 0;
    if (!isTerminal(row.status)) throw new LedgerflowError('precondition_failed', `instance '${instanceId}' is still ${row.status}`);
    await this.write({ deleteInstances: [instanceId] });
    return 1;
  }

  async purgeWhere(query: InstanceQuery): Promise<number> {
    const statuses = (query.statuses?.length ? query.statuses : (['Completed', 'Failed', 'Terminated', 'Canceled'] as const)).filter(
      (s) => isTerminal(s),
    );
    const ids = this.store.queryInstances({ ...query, statuses }).map((r) => r.instanceId);
    if (ids.length > 0) await this.write({ deleteInstances: ids });
    return ids.length;
  }

  /** Resolves once no episode or activity is running or queued (for tests and benchmarks). */
  async idle(): Promise<void> {
    while (this.inflight.size > 0 || this.readyQueue.length > 0 || this.pendingWrites.length > 0) {
      await Promise.allSettled([...this.inflight]);
      await new Promise((r) => setImmediate(r));
    }
  }

  private liveOrThrow(instanceId: string): Live {
    const live = this.lives.get(instanceId);
    if (live !== undefined) return live;
    const row = this.store.getInstance(instanceId);
    if (row === undefined) throw new LedgerflowError('not_found', `no instance with id '${instanceId}'`);
    throw new LedgerflowError('gone', `instance '${instanceId}' is ${row.status}`);
  }

  /** New work is refused (507) while commits wait for space, rather than queued behind them. */
  private refuseWhileDiskFull(): void {
    if (this.diskFullSince !== undefined) throw insufficientStorage();
  }

  private async send(instanceId: string, ev: InboxEvent): Promise<void> {
    this.refuseWhileDiskFull();
    this.liveOrThrow(instanceId);
    const msg: StoredMessage = { instanceId, visibleAt: 0, event: ev };
    await this.write({ insertMessages: [msg] });
    this.deliver(msg);
  }

  // ---- the loop ------------------------------------------------------------------------

  private createInstance(
    batch: WriteBatch,
    instanceId: string,
    name: string,
    input: string | undefined,
    parent: { InstanceId: string; TaskScheduledId: number; Name: string } | undefined,
  ): Live {
    const now = new Date();
    const row: InstanceRow = {
      instanceId,
      name,
      executionId: randomUUID(),
      status: 'Pending',
      input,
      output: undefined,
      customStatus: undefined,
      failure: undefined,
      createdAt: now.getTime(),
      updatedAt: now.getTime(),
      parentInstanceId: parent?.InstanceId,
    };
    const started = event(EventType.ExecutionStarted, now, {
      Name: name,
      Input: input,
      OrchestrationInstance: { InstanceId: instanceId, ExecutionId: row.executionId },
      ParentInstance: parent,
    });
    const msg: StoredMessage = { instanceId, visibleAt: 0, event: started };
    (batch.putInstances ??= []).push(row);
    (batch.insertMessages ??= []).push(msg);
    // The first episode need not wait for this batch's commit: it only computes, and its own
    // batch is written after this one (in the same transaction when it is quick, so a start
    // and its first episode share one fsync); nothing it schedules runs before both commit.
    const live: Live = {
      row, state: emptyState(instanceId), historyLength: 0, replay: [], inbox: [{ event: started, visibleAt: 0, stored: msg }],
      busy: false, queued: false, parked: false, wakeAt: Infinity,
    };
    this.lives.set(instanceId, live);
    this.kick(live);
    return live;
  }

  /** Adds a committed message to its instance's inbox. */
  private deliver(msg: StoredMessage): void {
    const live = this.lives.get(msg.instanceId);
    if (live === undefined) return;
    live.inbox.push({ event: msg.event, visibleAt: msg.visibleAt, messageId: msg.id });
    live.parked = false;
    this.kick(live);
  }

  private kick(live: Live): void {
    if (live.busy || live.queued || live.parked || this.stopping) return;
    const now = Date.now();
    let ready = false;
    let next = Infinity;
    for (const m of live.inbox) {
      if (m.visibleAt <= now) {
        ready = true;
        break;
      }
      next = Math.min(next, m.visibleAt);
    }
    if (!ready) {
      if (next < Infinity) this.wakeAtTime(next, live);
      return;
    }
    live.queued = true;
    this.readyQueue.push(live);
    if (!this.episodePumpScheduled) {
      this.episodePumpScheduled = true;
      // setImmediate, not a microtask: completions that arrive in this turn join the episode.
      setImmediate(() => {
        this.episodePumpScheduled = false;
        this.pumpEpisodes();
      });
    }
  }

  private pumpEpisodes(): void {
    while (this.episodesRunning < this.maxOrchestrations && this.readyQueue.length > 0 && !this.stopping) {
      const live = this.readyQueue.shift() as Live;
      live.queued = false;
      if (this.lives.get(live.row.instanceId) !== live) continue;
      this.episodesRunning++;
      live.busy = true;
      const episode = this.runEpisode(live);
      this.episodes.add(episode);
      this.track(
        episode
          .catch((err: unknown) => this.onFatal(err))
          .finally(() => {
            this.episodes.delete(episode);
            live.busy = false;
            this.episodesRunning--;
            this.kick(live);
            this.pumpEpisodes();
          }),
      );
    }
  }

  private async runEpisode(live: Live): Promise<void> {
    const now = new Date();
    const nowMs = now.getTime();
    const ready = live.inbox.filter((m) => m.visibleAt <= nowMs);
    const admission = admit(live.state, ready.map((m) => m.event), now);
    if (admission.consumed.length === 0) {
      // Nothing admissible (e.g. suspended): wait for the next message rather than spin.
      live.parked = true;
      const unstored = ready.filter((m) => m.ticket !== undefined);
      if (unstored.length > 0) {
        const batch: WriteBatch = {};
        const settle = this.storeRaised(live, unstored, batch);
        await this.write(batch).then(settle, (err: unknown) => {
          for (const m of unstored) m.ticket?.reject(err);
          throw err;
        });
      }
      return;
    }
    const s = live.state;
    const appended: HistoryEvent[] = [];
    const replayBefore = live.replay.length;
    const append = (e: HistoryEvent): void => {
      applyEvent(s, e);
      appended.push(e);
      if (sdkReads(e)) live.replay.push(JSON.stringify(e));
    };
    admission.events.forEach(append);
    let effects: Effect[] = admission.effects;
    let customStatus = live.row.customStatus;
    if (admission.runOrchestrator) {
      const result = await this.replay(live);
      const decision = decide(s, result, now);
      decision.events.forEach(append);
      effects = [...effects, ...decision.effects];
      customStatus = decision.customStatus;
    }

    const consumed = new Set<InboxEvent>(admission.consumed);
    const taken = ready.filter((m) => consumed.has(m.event));
    const batch: WriteBatch = {
      deleteMessages: taken.flatMap((m): (number | StoredMessage)[] => (m.messageId !== undefined ? [m.messageId] : m.stored !== undefined ? [m.stored] : [])),
      deleteActivities: taken.flatMap((m) => (m.activityId === undefined ? [] : [m.activityId])),
    };
    const { after, restart, finished } = this.planEffects(live, effects, batch, now);
    const admittedRaised = taken.filter((m) => m.ticket !== undefined);
    // An instance that ends here waits for nothing more: events it did not take are dropped
    // with its inbox (as stored messages would be), and their senders are answered.
    const settleStored = finished
      ? () => live.inbox.forEach((m) => m.ticket?.resolve())
      : this.storeRaised(live, ready.filter((m) => m.ticket !== undefined && !consumed.has(m.event)), batch);

    const row: InstanceRow = {
      ...live.row,
      name: s.name || live.row.name,
      executionId: s.executionId || live.row.executionId,
      status: s.status,
      input: s.status === 'Pending' ? live.row.input : s.input,
      output: s.output,
      failure: s.failure,
      customStatus,
      updatedAt: nowMs,
    };
    if (restart) {
      after.push(this.planRestart(live, restart.input, row, consumed, batch, now));
    } else {
      batch.appendHistory = [{ instanceId: s.instanceId, from: live.historyLength, events: appended }];
      live.historyLength += appended.length;
    }
    if (finished) batch.dropWorkOf = [s.instanceId];
    batch.putInstances = [...(batch.putInstances ?? []), row];

    try {
      await this.write(batch);
    } catch (err) {
      for (const m of ready) m.ticket?.reject(err);
      throw err;
    }
    for (const m of admittedRaised) m.ticket?.resolve();
    settleStored();

    live.row = row;
    if (!restart) {
      for (let i = replayBefore; i < live.replay.length; i++) live.replay[i] = (live.replay[i] as string).replace(NOT_PLAYED, PLAYED);
    }
    live.inbox = live.inbox.filter((m) => !consumed.has(m.event));
    if (finished) this.lives.delete(s.instanceId);
    for (const f of after) f();
    this.pumpActivities();
  }

  /**
   * Raised events an episode did not admit go into its batch as messages; the returned step
   * (after commit) records their row ids and settles their senders.
   */
  private storeRaised(live: Live, items: readonly InboxItem[], batch: WriteBatch): () => void {
    if (items.length === 0) return () => undefined;
    const msgs = items.map((m): StoredMessage => ({ instanceId: live.row.instanceId, visibleAt: m.visibleAt, event: m.event }));
    (batch.insertMessages ??= []).push(...msgs);
    return () => {
      items.forEach((m, i) => {
        const ticket = m.ticket;
        m.messageId = msgs[i]?.id;
        m.ticket = undefined;
        ticket?.resolve();
      });
    };
  }

  /** Adds the work an episode's effects create to its batch; returns what to do after commit. */
  private planEffects(
    live: Live,
    effects: readonly Effect[],
    batch: WriteBatch,
    now: Date,
  ): { after: (() => void)[]; restart: { input: string | undefined } | undefined; finished: boolean } {
    const s = live.state;
    const after: (() => void)[] = [];
    let restart: { input: string | undefined } | undefined;
    let finished = false;
      for (const fx of effects) {
        switch (fx.kind) {
          case 'scheduleActivity': {
            const item: ActivityItem = { instanceId: s.instanceId, executionId: s.executionId, taskId: fx.taskId, name: fx.name, input: fx.input };
            (batch.insertActivities ??= []).push(item);
            after.push(() => this.activityQueue.push(item));
            break;
          }
          case 'scheduleTimer': {
            const msg: StoredMessage = {
              instanceId: s.instanceId,
              visibleAt: fx.fireAt.getTime(),
              event: event(EventType.TimerFired, now, { TimerId: fx.taskId, FireAt: fx.fireAt.toISOString() }),
            };
            (batch.insertMessages ??= []).push(msg);
            after.push(() => live.inbox.push({ event: msg.event, visibleAt: msg.visibleAt, messageId: msg.id }));
            break;
          }
          case 'startSubOrchestration':
            after.push(this.startChild(batch, live, fx, now));
            break;
          case 'notifyParent': {
            // A parent that ended (terminated, purged) waits for nothing: do not leave it mail.
            if (!this.lives.has(fx.parentInstanceId)) break;
            const msg: StoredMessage = { instanceId: fx.parentInstanceId, visibleAt: 0, event: fx.event };
            (batch.insertMessages ??= []).push(msg);
            after.push(() => this.deliver(msg));
            break;
          }
          case 'continueAsNew':
            restart = { input: fx.input };
            break;
          case 'finished':
            finished = true;
            break;
        }
      }
    return { after, restart, finished };
  }

  /**
   * Continue-as-new: a new execution of the same instance with fresh history; the old
   * execution's timers are dropped. Updates `row` and `batch`; returns the after-commit step.
   */
  private planRestart(live: Live, input: string | undefined, row: InstanceRow, consumed: ReadonlySet<InboxEvent>, batch: WriteBatch, now: Date): () => void {
    const s = live.state;
    batch.clearHistory = [s.instanceId];
    const stale = live.inbox.filter((m) => !consumed.has(m.event) && m.event.EventType === EventType.TimerFired);
    batch.deleteMessages = [...(batch.deleteMessages ?? []), ...stale.flatMap((m) => (m.messageId === undefined ? [] : [m.messageId]))];
    const staleSet = new Set(stale);
    live.inbox = live.inbox.filter((m) => !staleSet.has(m));
    const executionId = randomUUID();
    const started = event(EventType.ExecutionStarted, now, {
      Name: s.name,
      Input: input,
      OrchestrationInstance: { InstanceId: s.instanceId, ExecutionId: executionId },
      ParentInstance: s.parent,
    });
    const msg: StoredMessage = { instanceId: s.instanceId, visibleAt: 0, event: started };
    (batch.insertMessages ??= []).push(msg);
    Object.assign(row, { status: 'Running' as RuntimeStatus, executionId, input, output: undefined, failure: undefined });
    live.historyLength = 0;
    live.replay = [];
    live.state = emptyState(s.instanceId);
    return () => live.inbox.push({ event: started, visibleAt: 0, messageId: msg.id });
  }

  private async replay(live: Live): Promise<OrchestratorResult> {
    const s = live.state;
    const trigger =
      `{"history":[${live.replay.join(',')}]` +
      (s.input === undefined ? '' : `,"input":${s.input}`) +
      `,"instanceId":${JSON.stringify(s.instanceId)}` +
      (s.parent === undefined ? '' : `,"parentInstanceId":${JSON.stringify(s.parent.InstanceId)}`) +
      TRIGGER_TAIL;
    try {
      return parseOrchestratorState(await this.fns.runOrchestrator(s.name, trigger), s.actionCount);
    } catch (err) {
      return parseOrchestratorFailure(err);
    }
  }

  private startChild(batch: WriteBatch, parent: Live, fx: Extract<Effect, { kind: 'startSubOrchestration' }>, now: Date): () => void {
    const failBack = (reason: string): (() => void) => {
      const msg: StoredMessage = {
        instanceId: parent.state.instanceId,
        visibleAt: 0,
        event: event(EventType.SubOrchestrationInstanceFailed, now, { TaskScheduledId: fx.taskId, Reason: reason, Details: '' }),
      };
      (batch.insertMessages ??= []).push(msg);
      return () => this.deliver(msg);
    };
    if (!this.fns.hasOrchestrator(fx.name)) return failBack(`no orchestrator named '${fx.name}' is registered`);
    if (this.lives.has(fx.instanceId)) return failBack(`instance '${fx.instanceId}' already exists and is not finished`);
    if (this.store.getInstance(fx.instanceId)) (batch.deleteInstances ??= []).push(fx.instanceId);
    this.createInstance(batch, fx.instanceId, fx.name, fx.input, {
      InstanceId: parent.state.instanceId,
      TaskScheduledId: fx.taskId,
      Name: parent.state.name,
    });
    return () => undefined;
  }

  // ---- activities ------------------------------------------------------------------------

  private claimActivities(): void {
    const local = `${hostname()}:`;
    // An owner on this machine whose process is gone (or an earlier engine in this
    // process) will never finish its items: take them now instead of waiting for the lease.
    const dead = (owner: string): boolean => {
      if (!owner.startsWith(local)) return false;
      const pid = Number(owner.slice(local.length).split(':')[0]);
      if (pid === process.pid) return true;
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    };
    const items = this.store.claimActivities(this.owner, Date.now() + this.leaseMs, dead);
    if (items.length === 0) return;
    this.activityQueue.push(...items);
    this.pumpActivities();
  }

  private pumpActivities(): void {
    while (this.activitiesRunning < this.maxActivities && this.activityHead < this.activityQueue.length && !this.stopping) {
      const item = this.activityQueue[this.activityHead++] as ActivityItem;
      const live = this.lives.get(item.instanceId);
      if (live === undefined || live.state.executionId !== item.executionId) {
        this.orphan(item);
        continue;
      }
      this.activitiesRunning++;
      this.track(
        this.runActivity(item).finally(() => {
          this.activitiesRunning--;
          this.pumpActivities();
        }),
      );
    }
    if (this.activityHead > 4096 && this.activityHead * 2 > this.activityQueue.length) {
      this.activityQueue = this.activityQueue.slice(this.activityHead);
      this.activityHead = 0;
    }
  }

  private async runActivity(item: ActivityItem): Promise<void> {
    const now = (): Date => new Date();
    let ev: InboxEvent;
    try {
      const result = await this.fns.runActivity(item.name, fromJsonText(item.input), item.instanceId);
      ev = event(EventType.TaskCompleted, now(), { TaskScheduledId: item.taskId, Result: JSON.stringify(result ?? null) });
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      ev = event(EventType.TaskFailed, now(), { TaskScheduledId: item.taskId, Reason: e.message, Details: e.stack ?? '' });
    }
    const live = this.lives.get(item.instanceId);
    if (live === undefined || live.state.executionId !== item.executionId) {
      this.orphan(item);
      return;
    }
    live.inbox.push({ event: ev, visibleAt: 0, activityId: item.id });
    live.parked = false;
    this.kick(live);
  }

  /** An item whose instance ended or moved on: its row goes, its result is not wanted. */
  private orphan(item: ActivityItem): void {
    if (item.id !== undefined) void this.write({ deleteActivities: [item.id] }).catch((err: unknown) => this.onFatal(err));
  }

  // ---- timers and commits ----------------------------------------------------------------

  private wakeAtTime(at: number, live: Live): void {
    if (live.wakeAt <= at) return;
    live.wakeAt = at;
    this.wakeups.push({ at, live });
    if (at >= this.wakeAt) return;
    clearTimeout(this.wakeTimer);
    this.wakeAt = at;
    this.wakeTimer = setTimeout(() => this.wake(), Math.max(0, at - Date.now()));
  }

  private wake(): void {
    this.wakeAt = Infinity;
    const now = Date.now();
    const due = this.wakeups.filter((w) => w.at <= now);
    this.wakeups = this.wakeups.filter((w) => w.at > now);
    for (const w of due) {
      if (w.live.wakeAt === w.at) w.live.wakeAt = Infinity;
      this.kick(w.live);
    }
    const next = this.wakeups.reduce((m, w) => Math.min(m, w.at), Infinity);
    if (next < Infinity && !this.stopping) {
      this.wakeAt = next;
      this.wakeTimer = setTimeout(() => this.wake(), Math.max(0, next - Date.now()));
    }
  }

  private track<T>(p: Promise<T>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private write(batch: WriteBatch): Promise<void> {
    // After close nothing more is recorded; what was not committed is redone at the next start.
    if (this.closed) return new Promise(() => undefined);
    return new Promise((resolve, reject) => {
      this.pendingWrites.push({ batch, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const items = this.pendingWrites;
    if (items.length === 0) return;
    this.pendingWrites = [];
    try {
      this.store.commit(items.map((i) => i.batch));
    } catch (err) {
      if (isDiskFull(err) && !this.closed) {
        this.retryWhenSpace(items, err);
        return;
      }
      for (const i of items) i.reject(err);
      return;
    }
    if (this.diskFullSince !== undefined) {
      this.log?.info({ waitedMs: Date.now() - this.diskFullSince }, 'durable store writable again');
      this.diskFullSince = undefined;
    }
    for (const i of items) i.resolve();
  }

  /**
   * A commit refused for want of space rolled back whole, and memory is already ahead of the
   * store, so the same batches (and those queued behind them) are committed again, in order,
   * until the disk has room: an episode, its timers and activities wait rather than get lost.
   */
  private retryWhenSpace(items: typeof this.pendingWrites, err: unknown): void {
    this.pendingWrites = [...items, ...this.pendingWrites];
    if (this.diskFullSince === undefined) {
      this.diskFullSince = Date.now();
      this.log?.warn({ err: String(err) }, 'the data disk is full: durable commits wait for space');
    }
    this.flushScheduled = true;
    setTimeout(() => {
      if (this.closed) return;
      this.flush();
    }, 250);
  }
}
