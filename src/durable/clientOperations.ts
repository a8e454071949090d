import { randomUUID } from 'node:crypto';
import { insufficientStorage, LedgerflowError } from '../core/errors';
import { CommittedRows } from './committedRows';
import { entityIdParts, entityIdProblem, entitySchedulerId, isEntityId, type EntityRequest } from './entities';
import { instanceIdProblem } from './instanceId';
import { event, EventType, fromJsonText, toJsonText, type HistoryEvent, type InboxEvent } from './history';
import type { Live } from './live';
import type { FunctionPort } from './ports';
import type { DurableStore, InstanceQuery, InstanceRow, StoredMessage, WriteBatch } from './store';

export interface StatusOptions {
  showHistory?: boolean;
}

export interface InstanceStatus {
  row: InstanceRow;
  history?: HistoryEvent[];
}

/**
 * What clients (the management API, the app's DurableClient, tests) do to instances. Each
 * operation validates against the store or the live cache, then hands the scheduler an
 * instance to create or a message to deliver; the scheduler (engine.ts) does the rest.
 */
export abstract class ClientOperations {
  protected abstract readonly store: DurableStore;
  protected abstract readonly fns: FunctionPort;
  protected abstract readonly lives: Map<string, Live>;
  /** The instance rows this engine's transactions committed (`write` keeps it). */
  protected readonly committed = new CommittedRows();
  protected abstract write(batch: WriteBatch): Promise<void>;
  /** Commits are waiting for space on a full disk. */
  protected abstract readonly waitingForSpace: boolean;
  protected abstract kick(live: Live): void;
  /** Adds a committed message to its instance's inbox. */
  protected abstract deliver(msg: StoredMessage): void;
  /** Puts an entity operation into `batch`; returns the step to run after its commit. */
  protected abstract sendToEntity(batch: WriteBatch, target: string, request: EntityRequest, now: Date): () => void;
  protected abstract createInstance(
    batch: WriteBatch,
    instanceId: string,
    name: string,
    input: string | undefined,
    parent: { InstanceId: string; TaskScheduledId: number; Name: string } | undefined,
  ): Live;

  async startNew(name: string, options: { instanceId?: string | undefined; input?: unknown } = {}): Promise<string> {
    this.refuseWhileDiskFull();
    if (!this.fns.hasOrchestrator(name)) throw new LedgerflowError('bad_request', `no orchestrator named '${name}' is registered`);
    const given = options.instanceId || undefined;
    const instanceId = given ?? randomUUID().replace(/-/g, '');
    const problem = instanceIdProblem(instanceId);
    if (problem !== undefined) throw new LedgerflowError('bad_request', problem, { details: [{ path: 'instanceId', message: problem }] });
    if (this.lives.has(instanceId)) throw new LedgerflowError('conflict', `instance '${instanceId}' already exists and is not finished`);
    // Only a given id can name an earlier instance (122 random bits are new): no store read
    // on the common start.
    const previous = given === undefined ? undefined : this.store.getInstance(instanceId);
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
    // With its history, the row is read from the store as the history is: they agree.
    if (options.showHistory) {
      const row = this.store.getInstance(instanceId);
      return row && { row, history: this.store.getHistory(instanceId) };
    }
    const known = this.committed.get(instanceId);
    const row = known === undefined ? this.store.getInstance(instanceId) : { ...known };
    return row && { row };
  }

  /** Orchestration instances (entities are not listed, as with the extension's query). */
  listInstances(query: InstanceQuery): InstanceRow[] {
    return this.store.queryInstances(query).filter((r) => !isEntityId(r.instanceId));
  }

  /** Sends an operation to an entity (the client's signalEntity); resolves once it is stored. */
  async signalEntity(name: string, key: string, op: string, input: unknown): Promise<void> {
    this.refuseWhileDiskFull();
    const problem = entityIdProblem(name, key);
    if (problem !== undefined) throw new LedgerflowError('bad_request', problem);
    const batch: WriteBatch = {};
    const deliver = this.sendToEntity(batch, entitySchedulerId(name, key), { id: randomUUID(), op, signal: true, input: toJsonText(input) }, new Date());
    await this.write(batch);
    deliver();
  }

  /** An entity's state: `exists` false when it has none (never set, or deleted). */
  readEntityState(name: string, key: string): { exists: boolean; state: unknown; lastOperationTime: number } {
    const row = this.store.getInstance(entitySchedulerId(name, key));
    return row?.input === undefined
      ? { exists: false, state: undefined, lastOperationTime: 0 }
      : { exists: true, state: fromJsonText(row.input), lastOperationTime: row.updatedAt };
  }

  /** The entities of one entity function that exist. */
  listEntities(name: string): { key: string; state: unknown; lastOperationTime: number }[] {
    return this.store
      .queryInstances({ instanceIdPrefix: entitySchedulerId(name, '') })
      .filter((r) => r.input !== undefined)
      .map((r) => ({ key: entityIdParts(r.instanceId).key, state: fromJsonText(r.input), lastOperationTime: r.updatedAt }));
  }

  /**
   * Deletes an instance's state; returns how many instances were deleted (0 or 1). As the
   * extension's purge does on Azure Storage, a running instance is purged too: its pending
   * work goes with it, and an episode in progress for it commits nothing.
   */
  async purge(instanceId: string): Promise<number> {
    if (this.store.getInstance(instanceId) === undefined) return 0;
    await this.purgeIds([instanceId]);
    return 1;
  }

  /** Purges the instances the query matches, of any status unless `statuses` narrows it. */
  async purgeWhere(query: InstanceQuery): Promise<number> {
    const ids = this.listInstances(query).map((r) => r.instanceId);
    if (ids.length > 0) await this.purgeIds(ids);
    return ids.length;
  }

  /**
   * Starts the orchestration again with the instance's original input (the extension's
   * RestartAsync): under a new id, or under the same one when it has finished.
   */
  async restart(instanceId: string, withNewInstanceId: boolean): Promise<string> {
    const row = this.store.getInstance(instanceId);
    if (row === undefined) throw new LedgerflowError('bad_request', `An orchestration with the instanceId ${instanceId} was not found.`);
    return this.startNew(row.name, { instanceId: withNewInstanceId ? undefined : instanceId, input: fromJsonText(row.input) });
  }

  private async purgeIds(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      const live = this.lives.get(id);
      if (live === undefined) continue;
      // Nobody waits on an instance that is gone: its raised events' senders are answered.
      this.lives.delete(id);
      for (const m of live.inbox) m.ticket?.resolve();
    }
    await this.write({ deleteInstances: [...ids] });
  }

  private liveOrThrow(instanceId: string): Live {
    // Entities take operations (signalEntity), not orchestration events.
    if (isEntityId(instanceId)) throw new LedgerflowError('not_found', `no orchestration instance with id '${instanceId}'`);
    const live = this.lives.get(instanceId);
    if (live !== undefined) return live;
    const row = this.store.getInstance(instanceId);
    if (row === undefined) throw new LedgerflowError('not_found', `no instance with id '${instanceId}'`);
    throw new LedgerflowError('gone', `instance '${instanceId}' is ${row.status}`);
  }

  /** New work is refused (507) while commits wait for space, rather than queued behind them. */
  private refuseWhileDiskFull(): void {
    if (this.waitingForSpace) throw insufficientStorage();
  }

  private async send(instanceId: string, ev: InboxEvent): Promise<void> {
    this.refuseWhileDiskFull();
    this.liveOrThrow(instanceId);
    const msg: StoredMessage = { instanceId, visibleAt: 0, event: ev };
    await this.write({ insertMessages: [msg] });
    this.deliver(msg);
  }
}
