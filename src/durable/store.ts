import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { openSqlite } from '../fs/sqliteCreate';
import { boundedStorage, compact, type Compaction } from '../fs/sqliteUpkeep';
import type { FailureInfo, HistoryEvent, InboxEvent, RuntimeStatus } from './history';

/**
 * The durable store: the only truth about orchestrations. SQLite in WAL mode with
 * `synchronous=FULL`, so a committed transaction survives `kill -9` and power loss.
 * Writes arrive as `WriteBatch` values and many batches commit in one transaction
 * (group commit: one fsync for everything a scheduler turn produced).
 *
 * Tables: `instances` (one row per instance: status, input, output), `history` (the
 * current execution's events), `messages` (each instance's inbox; timers are messages
 * that become visible later) and `activities` (activity work items with a lease).
 */
export interface InstanceRow {
  instanceId: string;
  name: string;
  executionId: string;
  status: RuntimeStatus;
  input: string | undefined;
  output: string | undefined;
  customStatus: string | undefined;
  failure: FailureInfo | undefined;
  createdAt: number;
  updatedAt: number;
  parentInstanceId: string | undefined;
}

export interface StoredMessage {
  /** Row id, handed out when the batch that inserts it is written (`assignIds`). */
  id?: number;
  instanceId: string;
  visibleAt: number;
  event: InboxEvent;
}

export interface ActivityItem {
  /** Row id, handed out when the batch that inserts it is written (`assignIds`). */
  id?: number;
  instanceId: string;
  executionId: string;
  taskId: number;
  name: string;
  input: string | undefined;
}

export interface WriteBatch {
  putInstances?: InstanceRow[];
  /** Appends `events` at position `from` of the instance's history. */
  appendHistory?: { instanceId: string; from: number; events: readonly HistoryEvent[] }[];
  clearHistory?: string[];
  insertMessages?: StoredMessage[];
  /** By row id, or by the message itself when an earlier batch inserts it. */
  deleteMessages?: (number | StoredMessage)[];
  insertActivities?: ActivityItem[];
  deleteActivities?: number[];
  /** Drops an instance's queued work (its activities and inbox) when it ends. */
  dropWorkOf?: string[];
  /** Removes every trace of an instance (purge). */
  deleteInstances?: string[];
}

/** Who holds new activity items, and until when (ms since the epoch). */
export interface Lease {
  owner: string;
  until: number;
}

export interface InstanceQuery {
  createdFrom?: number | undefined;
  createdTo?: number | undefined;
  statuses?: readonly RuntimeStatus[] | undefined;
  instanceIdPrefix?: string | undefined;
  /** Instance ids strictly after this one (paging by id). */
  after?: string | undefined;
  limit?: number | undefined;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS instances (
  instance_id TEXT PRIMARY KEY, name TEXT NOT NULL, execution_id TEXT NOT NULL, status TEXT NOT NULL,
  input TEXT, output TEXT, custom_status TEXT, failure TEXT,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, parent_instance_id TEXT);
CREATE INDEX IF NOT EXISTS instances_by_status ON instances(status);
CREATE INDEX IF NOT EXISTS instances_by_created ON instances(created_at);
CREATE TABLE IF NOT EXISTS history (
  instance_id TEXT NOT NULL, seq INTEGER NOT NULL, event TEXT NOT NULL, PRIMARY KEY (instance_id, seq)) WITHOUT ROWID;
-- messages and activities hold only pending work, so they stay small: no index by
-- instance (one index page less to write per commit; ending or purging an instance scans).
CREATE TABLE IF NOT EXISTS messages (
  id INTEGER PRIMARY KEY, instance_id TEXT NOT NULL, visible_at INTEGER NOT NULL, event TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS activities (
  id INTEGER PRIMARY KEY, instance_id TEXT NOT NULL, execution_id TEXT NOT NULL, task_id INTEGER NOT NULL,
  name TEXT NOT NULL, input TEXT, locked_by TEXT, locked_until INTEGER NOT NULL DEFAULT 0);
`;

interface InstanceDbRow {
  instance_id: string;
  name: string;
  execution_id: string;
  status: RuntimeStatus;
  input: string | null;
  output: string | null;
  custom_status: string | null;
  failure: string | null;
  created_at: number;
  updated_at: number;
  parent_instance_id: string | null;
}

const toRow = (r: InstanceDbRow): InstanceRow => ({
  instanceId: r.instance_id,
  name: r.name,
  executionId: r.execution_id,
  status: r.status,
  input: r.input ?? undefined,
  output: r.output ?? undefined,
  customStatus: r.custom_status ?? undefined,
  failure: r.failure === null ? undefined : (JSON.parse(r.failure) as FailureInfo),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  parentInstanceId: r.parent_instance_id ?? undefined,
});

export class DurableStore {
  private readonly db: Database.Database;
  private readonly stmt;

  /**
   * Next row ids of `messages` and `activities`. Ids are handed out when a batch is written,
   * not when it commits, so a later batch (and the engine) can name a row an earlier batch
   * still on its way to the disk inserts; only this process writes the file.
   */
  private readonly nextId: { message: number; activity: number };

  constructor(readonly file: string) {
    mkdirSync(dirname(file), { recursive: true });
    const db = openSqlite(
      file,
      (path) => new Database(path),
      (db) => {
        // Small pages for a new store (an existing one keeps its size): a commit writes whole
        // pages to the WAL before its fsync, and an episode touches a few pages with little
        // on each (the instance row, the history tail, a work item); with 1 KiB pages a
        // sequential step writes ~8 KiB instead of ~20 KiB and its fsync returns sooner.
        db.pragma('page_size = 1024');
        boundedStorage(db);
        db.pragma('journal_mode = WAL');
        db.pragma('busy_timeout = 5000');
        // One commit (one WAL fsync) for the whole schema, not one per statement.
        db.transaction(() => db.exec(SCHEMA))();
      },
    );
    db.pragma('synchronous = FULL');
    this.db = db;
    this.stmt = {
      putInstance: db.prepare(
        `INSERT INTO instances (instance_id, name, execution_id, status, input, output, custom_status, failure, created_at, updated_at, parent_instance_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(instance_id) DO UPDATE SET name=excluded.name, execution_id=excluded.execution_id, status=excluded.status,
           input=excluded.input, output=excluded.output, custom_status=excluded.custom_status, failure=excluded.failure,
           created_at=excluded.created_at, updated_at=excluded.updated_at, parent_instance_id=excluded.parent_instance_id`,
      ),
      // Most episodes change only these columns: an UPDATE that names no indexed column
      // writes one page instead of three (SQLite rewrites the index entries of every
      // column an UPDATE sets, changed or not).
      updateProgress: db.prepare(
        `UPDATE instances SET output = ?, custom_status = ?, failure = ?, updated_at = ?
         WHERE instance_id = ? AND status = ? AND execution_id = ? AND name = ? AND input IS ? AND created_at = ? AND parent_instance_id IS ?`,
      ),
      appendHistory: db.prepare('INSERT INTO history (instance_id, seq, event) VALUES (?, ?, ?)'),
      clearHistory: db.prepare('DELETE FROM history WHERE instance_id = ?'),
      insertMessage: db.prepare('INSERT INTO messages (id, instance_id, visible_at, event) VALUES (?, ?, ?, ?)'),
      deleteMessage: db.prepare('DELETE FROM messages WHERE id = ?'),
      deleteMessagesOf: db.prepare('DELETE FROM messages WHERE instance_id = ?'),
      insertActivity: db.prepare(
        'INSERT INTO activities (id, instance_id, execution_id, task_id, name, input, locked_by, locked_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      deleteActivity: db.prepare('DELETE FROM activities WHERE id = ?'),
      deleteActivitiesOf: db.prepare('DELETE FROM activities WHERE instance_id = ?'),
      deleteInstance: db.prepare('DELETE FROM instances WHERE instance_id = ?'),
      getInstance: db.prepare('SELECT * FROM instances WHERE instance_id = ?'),
      getHistory: db.prepare('SELECT event FROM history WHERE instance_id = ? ORDER BY seq'),
      renewLeases: db.prepare('UPDATE activities SET locked_until = ? WHERE locked_by = ?'),
      releaseLeases: db.prepare('UPDATE activities SET locked_until = 0 WHERE locked_by = ?'),
    };
    const next = (table: string): number => (db.prepare(`SELECT coalesce(max(id), 0) + 1 AS n FROM ${table}`).get() as { n: number }).n;
    this.nextId = { message: next('messages'), activity: next('activities') };
  }

  /** Lease owner and expiry written with new activity items. */
  lease: { owner: string; until: () => number } = { owner: 'unowned', until: () => 0 };

  /** Gives the batch's new messages and activity items their row ids. */
  assignIds(batch: WriteBatch): void {
    for (const m of batch.insertMessages ?? []) m.id ??= this.nextId.message++;
    for (const a of batch.insertActivities ?? []) a.id ??= this.nextId.activity++;
  }

  /** Commits every batch in one transaction (assigning the row ids not yet assigned). */
  commit(batches: readonly WriteBatch[], lease: Lease = { owner: this.lease.owner, until: this.lease.until() }): void {
    const s = this.stmt;
    for (const b of batches) this.assignIds(b);
    this.db.transaction(() => {
      for (const b of batches) {
        for (const id of b.deleteInstances ?? []) {
          s.deleteInstance.run(id);
          s.clearHistory.run(id);
          s.deleteMessagesOf.run(id);
          s.deleteActivitiesOf.run(id);
        }
        for (const id of b.dropWorkOf ?? []) {
          s.deleteMessagesOf.run(id);
          s.deleteActivitiesOf.run(id);
        }
        for (const id of b.clearHistory ?? []) s.clearHistory.run(id);
        for (const r of b.putInstances ?? []) {
          const input = r.input ?? null;
          const output = r.output ?? null;
          const customStatus = r.customStatus ?? null;
          const failure = r.failure === undefined ? null : JSON.stringify(r.failure);
          const parent = r.parentInstanceId ?? null;
          const { changes } = s.updateProgress.run(
            output,
            customStatus,
            failure,
            r.updatedAt,
            r.instanceId,
            r.status,
            r.executionId,
            r.name,
            input,
            r.createdAt,
            parent,
          );
          if (changes === 0) {
            s.putInstance.run(r.instanceId, r.name, r.executionId, r.status, input, output, customStatus, failure, r.createdAt, r.updatedAt, parent);
          }
        }
        for (const h of b.appendHistory ?? []) {
          let seq = h.from;
          for (const e of h.events) s.appendHistory.run(h.instanceId, seq++, JSON.stringify(e));
        }
        for (const m of b.deleteMessages ?? []) {
          const id = typeof m === 'number' ? m : m.id;
          if (id === undefined) throw new Error('a message was deleted before it was stored');
          s.deleteMessage.run(id);
        }
        for (const m of b.insertMessages ?? []) s.insertMessage.run(m.id, m.instanceId, m.visibleAt, JSON.stringify(m.event));
        for (const id of b.deleteActivities ?? []) s.deleteActivity.run(id);
        for (const a of b.insertActivities ?? [])
          s.insertActivity.run(a.id, a.instanceId, a.executionId, a.taskId, a.name, a.input ?? null, lease.owner, lease.until);
      }
    })();
  }

  getInstance(instanceId: string): InstanceRow | undefined {
    const r = this.stmt.getInstance.get(instanceId) as InstanceDbRow | undefined;
    return r && toRow(r);
  }

  getHistory(instanceId: string): HistoryEvent[] {
    return (this.stmt.getHistory.all(instanceId) as { event: string }[]).map((r) => JSON.parse(r.event) as HistoryEvent);
  }

  queryInstances(q: InstanceQuery): InstanceRow[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.createdFrom !== undefined) {
      where.push('created_at >= ?');
      args.push(q.createdFrom);
    }
    if (q.createdTo !== undefined) {
      where.push('created_at <= ?');
      args.push(q.createdTo);
    }
    if (q.statuses && q.statuses.length > 0) {
      where.push(`status IN (${q.statuses.map(() => '?').join(',')})`);
      args.push(...q.statuses);
    }
    if (q.instanceIdPrefix) {
      where.push('instance_id >= ? AND instance_id < ?');
      args.push(q.instanceIdPrefix, `${q.instanceIdPrefix}\uffff`);
    }
    if (q.after !== undefined) {
      where.push('instance_id > ?');
      args.push(q.after);
    }
    const sql = `SELECT * FROM instances ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY instance_id ${
      q.limit !== undefined ? `LIMIT ${Math.max(0, Math.floor(q.limit))}` : ''
    }`;
    return (this.db.prepare(sql).all(...args) as InstanceDbRow[]).map(toRow);
  }

  /** Every instance that has not reached a terminal state, with its history and inbox. */
  loadActive(): { row: InstanceRow; history: HistoryEvent[]; inbox: StoredMessage[] }[] {
    const rows = (this.db.prepare(`SELECT * FROM instances WHERE status NOT IN ('Completed','Failed','Terminated','Canceled')`).all() as InstanceDbRow[]).map(
      toRow,
    );
    const inboxOf = this.db.prepare('SELECT id, visible_at, event FROM messages WHERE instance_id = ? ORDER BY id');
    return rows.map((row) => ({
      row,
      history: this.getHistory(row.instanceId).map((e) => ({ ...e, IsPlayed: true })),
      inbox: (inboxOf.all(row.instanceId) as { id: number; visible_at: number; event: string }[]).map((m) => ({
        id: m.id,
        instanceId: row.instanceId,
        visibleAt: m.visible_at,
        event: JSON.parse(m.event) as InboxEvent,
      })),
    }));
  }

  /**
   * Takes over activity items whose lease expired or whose owner is a dead process on this
   * machine, and returns them (they may have run already: at-least-once).
   */
  claimActivities(owner: string, until: number, isOwnerDead: (owner: string) => boolean): ActivityItem[] {
    const now = Date.now();
    const rows = this.db.prepare('SELECT * FROM activities WHERE locked_by IS NULL OR locked_by <> ? ORDER BY id').all(owner) as {
      id: number;
      instance_id: string;
      execution_id: string;
      task_id: number;
      name: string;
      input: string | null;
      locked_by: string | null;
      locked_until: number;
    }[];
    const claim = this.db.prepare('UPDATE activities SET locked_by = ?, locked_until = ? WHERE id = ?');
    const taken = rows.filter((r) => r.locked_until < now || r.locked_by === null || isOwnerDead(r.locked_by));
    this.db.transaction(() => {
      for (const r of taken) claim.run(owner, until, r.id);
    })();
    return taken.map((r) => ({
      id: r.id,
      instanceId: r.instance_id,
      executionId: r.execution_id,
      taskId: r.task_id,
      name: r.name,
      input: r.input ?? undefined,
    }));
  }

  renewLeases(owner: string, until: number): void {
    this.stmt.renewLeases.run(until, owner);
  }

  releaseLeases(owner: string): void {
    this.stmt.releaseLeases.run(owner);
  }

  /** Gives space freed by purges back and empties the WAL (src/fs/sqliteUpkeep.ts); for a
   * quiet moment, between commits. */
  compact(): Compaction {
    return compact(this.db);
  }

  close(): void {
    this.db.close();
  }
}
