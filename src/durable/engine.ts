import { randomUUID } from 'node:crypto';
import type { Logger } from '../observability/logger';
import { ActivityPool } from './activityPool';
import { ClientOperations } from './clientOperations';
import { isEntityId, type EntityRequest } from './entities';
import { EntityScheduler } from './entityScheduler';
import { GroupCommit } from './groupCommit';
import { event, EventType, type HistoryEvent, type InboxEvent, type RuntimeStatus } from './history';
import type { FunctionPort } from './ports';
import { admit, applyEvent, decide, emptyState, type Effect } from './replay';
import { subOrchestrationIdProblem } from './instanceId';
import { messageRows, newLive, restoreLive, storeRaised, type Live } from './live';
import type { ActivityItem, DurableStore, InstanceRow, StoredMessage, WriteBatch } from './store';
import { markPlayed, replayEpisode, replayText } from './triggerInput';

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

export class DurableEngine extends ClientOperations {
  protected readonly store: DurableStore;
  protected readonly fns: FunctionPort;
  private readonly maxOrchestrations: number;
  private readonly log: Logger | undefined;
  private readonly onFatal: (err: unknown) => void;
  private readonly activities: ActivityPool;
  private readonly commits: GroupCommit;
  private readonly entities: EntityScheduler;

  protected readonly lives = new Map<string, Live>();
  private readyQueue: Live[] = [];
  private episodesRunning = 0;
  private episodePumpScheduled = false;
  /** Episodes started by the episode pump that have not yet written their batch. */
  private unwritten = 0;

  private wakeups: { at: number; live: Live }[] = [];
  private wakeTimer: NodeJS.Timeout | undefined;
  private wakeAt = Infinity;
  private stopping = false;
  /** Episodes, activities and after-commit steps running (what `idle()` waits for). */
  private inflight = 0;
  private whenIdle: (() => void)[] = [];
  private readonly episodes = new Set<Promise<unknown>>();

  constructor(options: EngineOptions) {
    super();
    this.store = options.store;
    this.fns = options.functions;
    this.maxOrchestrations = options.maxConcurrentOrchestrations ?? 64;
    this.log = options.logger;
    this.onFatal =
      options.onFatal ??
      ((err) => {
        setImmediate(() => {
          throw err;
        });
      });
    this.commits = new GroupCommit(this.store, this.log);
    this.entities = new EntityScheduler({
      store: this.store,
      functions: this.fns,
      lives: this.lives,
      write: (batch) => this.write(batch),
      deliver: (msg) => this.deliver(msg),
    });
    this.activities = new ActivityPool({
      store: this.store,
      functions: this.fns,
      maxConcurrent: options.maxConcurrentActivities ?? 10,
      leaseMs: options.leaseMs ?? 60_000,
      wanted: (item) => this.lives.get(item.instanceId)?.state.executionId === item.executionId,
      complete: (item, ev) => {
        const live = this.lives.get(item.instanceId) as Live;
        live.inbox.push({ event: ev, visibleAt: 0, activityId: item.id });
        live.parked = false;
        this.kick(live);
      },
      discard: (id) => void this.write({ deleteActivities: [id] }).catch((err: unknown) => this.onFatal(err)),
      track: (p) => this.track(p),
      // Once no activity runs, no completion can arrive in this turn any more: the episodes
      // they made ready start now, not after the poll phase's I/O (in the host, the status
      // requests and the start's answer that waited while the activities ran).
      drained: () => {
        if (this.readyQueue.length > 0) queueMicrotask(() => this.pumpEpisodes());
      },
    });
  }

  /** Loads the active instances and their pending work from the store and starts the loop. */
  start(): void {
    for (const active of this.store.loadActive()) this.lives.set(active.row.instanceId, restoreLive(active));
    this.activities.start();
    for (const live of this.lives.values()) this.kick(live);
    this.log?.info({ active: this.lives.size, activities: this.activities.queued }, 'durable engine started');
  }

  /**
   * Shutdown, phase 1: no new episodes or activities; waits for the episodes in progress
   * (quick: a replay and a commit). Activities still running are the host's in-flight
   * invocations; results that arrive after this are not recorded and the activities run
   * again at the next start (at-least-once).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.activities.stop();
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
      const settle = storeRaised(live, unstored, batch);
      void this.write(batch).then(settle, (err: unknown) => {
        for (const m of unstored) m.ticket?.reject(err);
      });
    }
    this.commits.close();
    this.activities.release();
  }

  /** Resolves once no episode or activity is running or queued (for tests and benchmarks). */
  async idle(): Promise<void> {
    while (this.inflight > 0 || this.readyQueue.length > 0 || this.commits.busy || this.activities.pumpScheduled) {
      if (this.inflight > 0) await new Promise<void>((r) => this.whenIdle.push(r));
      await new Promise((r) => setImmediate(r));
    }
  }

  // ---- the loop ------------------------------------------------------------------------

  protected createInstance(
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
    const live = newLive(row, { event: started, visibleAt: 0, stored: msg });
    this.lives.set(instanceId, live);
    this.kick(live);
    return live;
  }

  /** Adds a committed message to its instance's inbox. */
  protected deliver(msg: StoredMessage): void {
    const live = this.lives.get(msg.instanceId);
    if (live === undefined) return;
    live.inbox.push({ event: msg.event, visibleAt: msg.visibleAt, messageId: msg.id });
    live.parked = false;
    this.kick(live);
  }

  protected kick(live: Live): void {
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
      this.unwritten++;
      let wrote = false;
      const written = (): void => {
        if (wrote) return;
        wrote = true;
        // Every episode the pump started has written its batch (most replays finish without
        // I/O, so within the turn that started them): their commit goes to the writer thread
        // now rather than a loop iteration later, behind the poll phase's I/O (HTTP requests,
        // the writer's replies). Batches written in the same turn still share a transaction.
        if (--this.unwritten === 0) this.commits.flushNow();
      };
      const episode = this.runEpisode(live, written);
      this.episodes.add(episode);
      this.track(
        episode
          .catch((err: unknown) => this.onFatal(err))
          .finally(() => {
            written();
            this.episodes.delete(episode);
            live.busy = false;
            this.episodesRunning--;
            this.kick(live);
            this.pumpEpisodes();
            // No episode is running and their commit went to the writer: the activities they
            // scheduled start now (not in the next loop iteration). Not sooner: completions
            // that arrive while their episode runs would start the next one with only some of
            // them (a fan-out of a thousand would then replay its history many times).
            if (this.episodesRunning === 0 && this.unwritten === 0) this.activities.startNow();
          }),
      );
    }
  }

  /** `written` is called once the episode's batch is written (or when it writes none). */
  private async runEpisode(live: Live, written: () => void): Promise<void> {
    if (isEntityId(live.row.instanceId)) return this.entities.runBatch(live);
    const now = new Date();
    const nowMs = now.getTime();
    const ready = live.inbox.filter((m) => m.visibleAt <= nowMs);
    const admission = admit(
      live.state,
      ready.map((m) => m.event),
      now,
    );
    if (admission.consumed.length === 0) {
      // Nothing admissible (e.g. suspended): wait for the next message rather than spin.
      live.parked = true;
      const unstored = ready.filter((m) => m.ticket !== undefined);
      if (unstored.length > 0) {
        const batch: WriteBatch = {};
        const settle = storeRaised(live, unstored, batch);
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
      const text = replayText(e);
      if (text !== undefined) live.replay.push(text);
    };
    admission.events.forEach(append);
    let effects: Effect[] = admission.effects;
    let customStatus = live.row.customStatus;
    if (admission.runOrchestrator) {
      const result = await replayEpisode(this.fns, live.state, live.replay);
      // Purged while the SDK replayed: there is nothing left to record.
      if (this.lives.get(s.instanceId) !== live) return;
      const decision = decide(s, result, now);
      decision.events.forEach(append);
      effects = [...effects, ...decision.effects];
      customStatus = decision.customStatus;
    }

    const consumed = new Set<InboxEvent>(admission.consumed);
    const taken = ready.filter((m) => consumed.has(m.event));
    const batch: WriteBatch = {
      deleteMessages: messageRows(taken),
      deleteActivities: taken.flatMap((m) => (m.activityId === undefined ? [] : [m.activityId])),
    };
    const { dispatch, written: toParent, after, restart, finished } = this.planEffects(live, effects, batch, now);
    const admittedRaised = taken.filter((m) => m.ticket !== undefined);
    // An instance that ends here waits for nothing more: events it did not take are dropped
    // with its inbox (as stored messages would be), and their senders are answered.
    const settleStored = finished
      ? () => live.inbox.forEach((m) => m.ticket?.resolve())
      : storeRaised(
          live,
          ready.filter((m) => m.ticket !== undefined && !consumed.has(m.event)),
          batch,
        );

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
    if (finished) {
      // Every message and activity row left is the instance's own, dropped by instance id in
      // the same transaction: deleting the taken ones by id first only costs a lookup each
      // (a 1,000-activity fan-in's commit took about twice as long with them).
      batch.dropWorkOf = [s.instanceId];
      delete batch.deleteMessages;
      delete batch.deleteActivities;
    }
    batch.putInstances = [...(batch.putInstances ?? []), row];

    const committed = this.write(batch);
    live.row = row;
    if (!restart) markPlayed(live.replay, replayBefore);
    live.inbox = live.inbox.filter((m) => !consumed.has(m.event));
    // Pipelining: the activities start in the next turn, while the commit that schedules them
    // is on its way to the disk (the writer thread). Their results can only reach the store in a later
    // transaction, so never before that commit; if the process dies first, the replay after
    // restart decides them again and they run again (at-least-once, as DurableTask's Azure
    // Storage backend, which sends its work messages before it writes the history).
    this.activities.dispatch(dispatch);
    written();
    if (finished) live.ending = true;
    for (const f of toParent) f();
    const settle = (): void => {
      for (const m of admittedRaised) m.ticket?.resolve();
      settleStored();
      // A new instance of the same id may have taken its place since (toParent).
      if (finished && this.lives.get(s.instanceId) === live) this.lives.delete(s.instanceId);
      for (const f of after) f();
    };
    if (!finished && !restart && !ready.some((m) => m.ticket !== undefined)) {
      // The instance's next episode need not wait for this commit either (its own commit
      // comes after this one); what this commit tells others (timers, messages) waits for it.
      this.track(committed.then(settle, (err: unknown) => this.onFatal(err)));
      return;
    }
    // An ending instance, and a raised event's sender, hear back only once it is on disk.
    try {
      await committed;
    } catch (err) {
      for (const m of ready) m.ticket?.reject(err);
      throw err;
    }
    settle();
  }

  /** Adds the work an episode's effects create to its batch; returns what to do once the
   * batch is written (its row ids known) and what to do after its commit. */
  private planEffects(
    live: Live,
    effects: readonly Effect[],
    batch: WriteBatch,
    now: Date,
  ): {
    dispatch: ActivityItem[];
    written: (() => void)[];
    after: (() => void)[];
    restart: { input: string | undefined } | undefined;
    finished: boolean;
  } {
    const s = live.state;
    const dispatch: ActivityItem[] = [];
    const written: (() => void)[] = [];
    const after: (() => void)[] = [];
    let restart: { input: string | undefined } | undefined;
    let finished = false;
    for (const fx of effects) {
      switch (fx.kind) {
        case 'scheduleActivity': {
          const item: ActivityItem = { instanceId: s.instanceId, executionId: s.executionId, taskId: fx.taskId, name: fx.name, input: fx.input };
          (batch.insertActivities ??= []).push(item);
          dispatch.push(item);
          break;
        }
        case 'scheduleTimer': {
          const msg: StoredMessage = {
            instanceId: s.instanceId,
            visibleAt: fx.fireAt.getTime(),
            event: event(EventType.TimerFired, now, { TimerId: fx.taskId, FireAt: fx.fireAt.toISOString() }),
          };
          (batch.insertMessages ??= []).push(msg);
          after.push(() => {
            live.inbox.push({ event: msg.event, visibleAt: msg.visibleAt, messageId: msg.id });
            this.kick(live);
          });
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
          // The parent goes on now, not after this commit (one fsync less on every hop of a
          // chain of sub-orchestrations): its episode only computes, and what it writes goes
          // to the store after this batch (same or later transaction, in order), so no
          // state is stored in which the parent saw a completion the child has not
          // recorded. Activities it schedules may run before this commit, as any episode's
          // do (at-least-once); after a crash the child's last episode runs again and
          // notifies the parent again.
          written.push(() => this.deliver(msg));
          break;
        }
        case 'sendEntity':
          after.push(this.entities.send(batch, fx.target, fx.request, now));
          break;
        case 'continueAsNew':
          restart = { input: fx.input };
          break;
        case 'finished':
          finished = true;
          break;
      }
    }
    return { dispatch, written, after, restart, finished };
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
    const problem = subOrchestrationIdProblem(fx.instanceId, parent.state.instanceId);
    if (problem !== undefined) return failBack(problem);
    // One that has ended, its last commits maybe still on their way (it notifies its parent
    // before), is replaced: its rows go in this batch, committed after its own.
    const ended = this.lives.get(fx.instanceId);
    if (ended?.ending === false) return failBack(`instance '${fx.instanceId}' already exists and is not finished`);
    if (ended !== undefined || this.store.getInstance(fx.instanceId)) (batch.deleteInstances ??= []).push(fx.instanceId);
    this.createInstance(batch, fx.instanceId, fx.name, fx.input, {
      InstanceId: parent.state.instanceId,
      TaskScheduledId: fx.taskId,
      Name: parent.state.name,
    });
    return () => undefined;
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

  // A count, not a set of the promises: every activity and episode passes here.
  private track<T>(p: Promise<T>): void {
    this.inflight++;
    p.then(this.untrack, this.untrackFailed);
  }

  /** What failed stays an unhandled rejection, as it was before it was counted. */
  private readonly untrackFailed = (err: unknown): never => {
    this.untrack();
    throw err;
  };

  private readonly untrack = (): void => {
    if (--this.inflight > 0) return;
    const idle = this.whenIdle;
    this.whenIdle = [];
    for (const f of idle) f();
  };

  protected sendToEntity(batch: WriteBatch, target: string, request: EntityRequest, now: Date): () => void {
    return this.entities.send(batch, target, request, now);
  }

  protected write(batch: WriteBatch): Promise<void> {
    return this.commits.write(batch, this.committed.writing(batch));
  }

  protected get waitingForSpace(): boolean {
    return this.commits.waitingForSpace;
  }

  /** Transactions committed so far and the writer's wall time in them (for the bench). */
  get commitStats(): { readonly transactions: number; readonly ms: number } {
    return this.commits.stats;
  }
}
