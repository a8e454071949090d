import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { preparedOnce } from '../../fs/preparedOnce';
import { openSqlite } from '../../fs/sqliteCreate';
import { boundedStorage, compact, type Compaction } from '../../fs/sqliteUpkeep';
import { isValidQueueName, type QueueClient, type QueueMessage, type QueueMessageInit } from './queueClient';

const SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000;

interface Row {
  id: string;
  queue: string;
  body: Buffer;
  is_text: number;
  dequeue_count: number;
  inserted_at: number;
  expires_at: number;
  visible_at: number;
  pop_receipt: string | null;
}

const toMessage = (r: Row): QueueMessage => ({
  id: r.id,
  queue: r.queue,
  body: r.is_text ? r.body.toString('utf8') : r.body,
  dequeueCount: r.dequeue_count,
  insertedAt: new Date(r.inserted_at),
  expiresAt: new Date(r.expires_at),
  visibleAt: new Date(r.visible_at),
  popReceipt: r.pop_receipt,
});

/**
 * Storage queues in SQLite (WAL) under the data dir, with Azure Storage queue semantics:
 * a received message is leased (invisible) until deleted or released; a lease that runs
 * out makes it visible again, so delivery is at least once. better-sqlite3 is loaded on
 * first use, keeping it off the host's start path when the app has no queues.
 */
export class QueueStore implements QueueClient {
  #db: BetterSqlite3.Database | undefined;
  #prepared: ((sql: string) => BetterSqlite3.Statement) | undefined;
  readonly #listeners = new Set<(queue: string) => void>();

  constructor(
    private readonly dataDir: string,
    private readonly now: () => number = Date.now,
  ) {}

  get #conn(): BetterSqlite3.Database {
    if (this.#db === undefined) {
      mkdirSync(this.dataDir, { recursive: true });
      const Database = require('better-sqlite3') as typeof BetterSqlite3;
      const db = openSqlite(
        join(this.dataDir, 'queues.sqlite'),
        (path) => new Database(path),
        (db) => {
          boundedStorage(db);
          db.pragma('journal_mode = WAL');
          db.pragma('busy_timeout = 5000');
          db.exec(`
        CREATE TABLE IF NOT EXISTS queue_messages (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          id TEXT NOT NULL UNIQUE,
          queue TEXT NOT NULL,
          body BLOB NOT NULL,
          is_text INTEGER NOT NULL,
          dequeue_count INTEGER NOT NULL DEFAULT 0,
          inserted_at INTEGER NOT NULL,
          expires_at INTEGER NOT NULL,
          visible_at INTEGER NOT NULL,
          pop_receipt TEXT
        );
        CREATE INDEX IF NOT EXISTS queue_messages_visible ON queue_messages (queue, visible_at, seq);
      `);
        },
      );
      db.pragma('synchronous = NORMAL');
      this.#db = db;
    }
    return this.#db;
  }

  #sql(sql: string): BetterSqlite3.Statement {
    const conn = this.#conn;
    this.#prepared ??= preparedOnce(conn);
    return this.#prepared(sql);
  }

  /** Called (in this process) after every enqueue, so pollers can wake up at once. */
  onEnqueue(listener: (queue: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  enqueue(queue: string, body: string | Uint8Array | object, init: QueueMessageInit = {}): string {
    if (!isValidQueueName(queue)) throw new Error(`"${queue}" is not a valid queue name (3-63 lower-case letters, digits, hyphens)`);
    const id = randomUUID();
    const now = this.now();
    const isText = !(body instanceof Uint8Array);
    const bytes = body instanceof Uint8Array ? Buffer.from(body) : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
    this.#sql('INSERT INTO queue_messages (id, queue, body, is_text, inserted_at, expires_at, visible_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
      id,
      queue,
      bytes,
      isText ? 1 : 0,
      now,
      now + (init.timeToLiveMs ?? SEVEN_DAYS_MS),
      now + (init.visibilityDelayMs ?? 0),
    );
    for (const listener of this.#listeners) listener(queue);
    return id;
  }

  /** Leases up to `max` visible messages for `leaseMs`, counting the dequeue. */
  receive(queue: string, max: number, leaseMs: number): QueueMessage[] {
    const db = this.#conn;
    const now = this.now();
    return db.transaction(() => {
      this.#sql('DELETE FROM queue_messages WHERE queue = ? AND expires_at <= ?').run(queue, now);
      const rows = this.#sql('SELECT * FROM queue_messages WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?').all(queue, now, max) as Row[];
      const update = this.#sql('UPDATE queue_messages SET dequeue_count = dequeue_count + 1, visible_at = ?, pop_receipt = ? WHERE id = ?');
      return rows.map((row) => {
        const popReceipt = randomUUID();
        update.run(now + leaseMs, popReceipt, row.id);
        return toMessage({ ...row, dequeue_count: row.dequeue_count + 1, visible_at: now + leaseMs, pop_receipt: popReceipt });
      });
    })();
  }

  /** Removes a processed message; false when the lease was lost (another receiver has it). */
  delete(message: QueueMessage): boolean {
    return this.#sql('DELETE FROM queue_messages WHERE id = ? AND pop_receipt = ?').run(message.id, message.popReceipt).changes === 1;
  }

  /** Ends the lease; the message becomes visible again after `delayMs`. */
  release(message: QueueMessage, delayMs: number): void {
    this.#sql('UPDATE queue_messages SET visible_at = ?, pop_receipt = NULL WHERE id = ? AND pop_receipt = ?').run(
      this.now() + delayMs,
      message.id,
      message.popReceipt,
    );
  }

  /** Moves a message that failed too often to `<queue>-poison`, in one transaction. */
  moveToPoison(message: QueueMessage): string {
    const db = this.#conn;
    const poison = `${message.queue}-poison`;
    const id = randomUUID();
    const now = this.now();
    db.transaction(() => {
      const removed = this.#sql('DELETE FROM queue_messages WHERE id = ? AND pop_receipt = ?').run(message.id, message.popReceipt).changes;
      if (removed === 1) {
        this.#sql('INSERT INTO queue_messages (id, queue, body, is_text, inserted_at, expires_at, visible_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
          id,
          poison,
          typeof message.body === 'string' ? Buffer.from(message.body, 'utf8') : message.body,
          typeof message.body === 'string' ? 1 : 0,
          now,
          now + SEVEN_DAYS_MS,
          now,
        );
      }
    })();
    for (const listener of this.#listeners) listener(poison);
    return poison;
  }

  /** At start, one host owns the data dir: leases held by a host that died are void. */
  reclaimLeases(): number {
    return this.#sql('UPDATE queue_messages SET visible_at = ?, pop_receipt = NULL WHERE pop_receipt IS NOT NULL').run(this.now()).changes;
  }

  peek(queue: string, limit = 32): QueueMessage[] {
    return (this.#sql('SELECT * FROM queue_messages WHERE queue = ? ORDER BY seq LIMIT ?').all(queue, limit) as Row[]).map(toMessage);
  }

  count(queue: string): number {
    return (this.#sql('SELECT COUNT(*) AS n FROM queue_messages WHERE queue = ?').get(queue) as { n: number }).n;
  }

  /** Gives space of deleted messages back and empties the WAL; for a quiet moment. */
  compact(): Compaction | undefined {
    return this.#db === undefined ? undefined : compact(this.#db);
  }

  close(): void {
    this.#db?.close();
    this.#db = undefined;
    this.#prepared = undefined;
  }
}
