import { randomUUID } from 'node:crypto';
import {
  entityIdParts,
  entityTriggerJson,
  failedOutcome,
  parseEntityOutcome,
  requestEvent,
  requestOf,
  responseEvent,
  type EntityOutcome,
  type EntityRequest,
} from './entities';
import { entityLive, messageRows, type Live } from './live';
import type { FunctionPort } from './ports';
import type { DurableStore, InstanceRow, StoredMessage, WriteBatch } from './store';

export interface EntitySchedulerDeps {
  store: DurableStore;
  functions: FunctionPort;
  lives: Map<string, Live>;
  write: (batch: WriteBatch) => Promise<void>;
  /** Adds a committed message to its instance's inbox. */
  deliver: (msg: StoredMessage) => void;
}

/**
 * The entity side of the scheduler (entities.ts has the protocol): an entity is a live
 * instance of the engine (one batch at a time, like an orchestration's episode), whose
 * batch runs every visible operation through the entity function and commits the new
 * state, the consumed operations, the responses and the signals in one transaction.
 * Operations are delivered at least once; a batch that did not commit runs again.
 */
export class EntityScheduler {
  constructor(private readonly d: EntitySchedulerDeps) {}

  /**
   * Puts an operation in the target entity's inbox (creating the entity's row on first
   * use) as part of `batch`; returns the step to run once the batch has committed.
   */
  send(batch: WriteBatch, target: string, request: EntityRequest, now: Date): () => void {
    if (!this.d.lives.has(target)) {
      const stored = this.d.store.getInstance(target);
      const row: InstanceRow = stored ?? {
        instanceId: target,
        name: entityIdParts(target).name,
        executionId: '',
        // Entities show as Running, as on Azure: they never finish.
        status: 'Running',
        input: undefined,
        output: undefined,
        customStatus: undefined,
        failure: undefined,
        createdAt: now.getTime(),
        updatedAt: now.getTime(),
        parentInstanceId: undefined,
      };
      if (stored === undefined) (batch.putInstances ??= []).push(row);
      this.d.lives.set(target, entityLive(row));
    }
    const msg: StoredMessage = { instanceId: target, visibleAt: 0, event: requestEvent(request, now) };
    (batch.insertMessages ??= []).push(msg);
    return () => this.d.deliver(msg);
  }

  async runBatch(live: Live): Promise<void> {
    const now = new Date();
    const ready = live.inbox.filter((m) => m.visibleAt <= now.getTime());
    const requests = ready.flatMap((m) => {
      const r = requestOf(m.event);
      return r === undefined ? [] : [r];
    });
    const id = live.row.instanceId;
    const { name } = entityIdParts(id);
    let outcome: EntityOutcome;
    if (!this.d.functions.hasEntity(name)) {
      outcome = failedOutcome(live.row.input, requests.length, `no entity function named '${name}' is registered`);
    } else if (requests.length === 0) {
      outcome = { state: live.row.input, results: [], signals: [] };
    } else {
      try {
        outcome = parseEntityOutcome(await this.d.functions.runEntity(name, entityTriggerJson(id, live.row.input, requests)), requests.length);
      } catch (err) {
        outcome = failedOutcome(live.row.input, requests.length, err instanceof Error ? err.message : String(err));
      }
    }
    // Purged while the entity function ran: nothing is left to record.
    if (this.d.lives.get(id) !== live) return;

    const row: InstanceRow = { ...live.row, input: outcome.state, updatedAt: now.getTime() };
    const batch: WriteBatch = { deleteMessages: messageRows(ready), putInstances: [row] };
    const after: (() => void)[] = [];
    requests.forEach((r, i) => {
      // A caller that ended (terminated, purged) waits for nothing: do not leave it mail.
      if (r.signal || r.parent === undefined || !this.d.lives.has(r.parent)) return;
      const msg: StoredMessage = {
        instanceId: r.parent,
        visibleAt: 0,
        event: responseEvent(r, outcome.results[i] ?? { isError: false, result: undefined }, now),
      };
      (batch.insertMessages ??= []).push(msg);
      after.push(() => this.d.deliver(msg));
    });
    for (const s of outcome.signals) after.push(this.send(batch, s.target, { id: randomUUID(), op: s.op, signal: true, input: s.input }, now));
    await this.d.write(batch);
    live.row = row;
    const taken = new Set(ready);
    live.inbox = live.inbox.filter((m) => !taken.has(m));
    for (const f of after) f();
  }
}
