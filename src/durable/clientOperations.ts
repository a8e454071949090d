import { randomUUID } from 'node:crypto';
import { LedgerflowError } from '../core/errors';
import { event, EventType, isTerminal, toJsonText, type HistoryEvent, type InboxEvent } from './history';
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
  protected abstract write(batch: WriteBatch): Promise<void>;
  protected abstract kick(live: Live): void;
  /** Adds a committed message to its instance's inbox. */
  protected abstract deliver(msg: StoredMessage): void;
  protected abstract createInstance(
    batch: WriteBatch,
    instanceId: string,
    name: string,
    input: string | undefined,
    parent: { InstanceId: string; TaskScheduledId: number; Name: string } | undefined,
  ): Live;

  async startNew(name: string, options: { instanceId?: string | undefined; input?: unknown } = {}): Promise<string> {
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

  private liveOrThrow(instanceId: string): Live {
    const live = this.lives.get(instanceId);
    if (live !== undefined) return live;
    const row = this.store.getInstance(instanceId);
    if (row === undefined) throw new LedgerflowError('not_found', `no instance with id '${instanceId}'`);
    throw new LedgerflowError('gone', `instance '${instanceId}' is ${row.status}`);
  }

  private async send(instanceId: string, ev: InboxEvent): Promise<void> {
    this.liveOrThrow(instanceId);
    const msg: StoredMessage = { instanceId, visibleAt: 0, event: ev };
    await this.write({ insertMessages: [msg] });
    this.deliver(msg);
  }
}
