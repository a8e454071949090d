import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { WORKFLOW_STATUSES, type WorkflowStatus } from '../../core/model';
import { preparedOnce } from '../../fs/preparedOnce';
import { boundedStorage, compact } from '../../fs/sqliteUpkeep';
import type { RunIndex, RunIndexEntry } from '../../ports/runIndex';

const FINISHED: readonly WorkflowStatus[] = ['Succeeded', 'Failed', 'Canceled', 'Rejected'];
const FINISHED_SQL = FINISHED.map((s) => `'${s}'`).join(', ');

interface Row {
  id: string;
  org: string;
  user: string;
  created_at: string;
  status: string;
  dataset_ids: string;
  finished_at: string | null;
  final_view: string | null;
}

function entryOf(r: Row): RunIndexEntry {
  const status = WORKFLOW_STATUSES.find((s) => s === r.status);
  if (status === undefined) throw new Error(`run index: run ${r.id} has an unknown status '${r.status}'`);
  return {
    id: r.id,
    org: r.org,
    user: r.user,
    createdAt: r.created_at,
    status,
    datasetIds: JSON.parse(r.dataset_ids) as string[],
    ...(r.finished_at !== null && { finishedAt: r.finished_at }),
    ...(r.final_view !== null && { finalView: r.final_view }),
  };
}

/**
 * The run index in one SQLite file (embedded host): one row per run, an index per
 * (organization, creation time, id) so a page is a range read whatever the number of runs,
 * and one row per (dataset, run) so a lease's end finds its runs without a scan.
 * `:memory:` serves tests.
 */
export class SqliteRunIndex implements RunIndex {
  private readonly db: BetterSqlite3.Database;
  private readonly sql: (sql: string) => BetterSqlite3.Statement;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    const Database = require('better-sqlite3') as typeof BetterSqlite3;
    this.db = new Database(file);
    boundedStorage(this.db);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.sql = preparedOnce(this.db);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS runs (
        id TEXT PRIMARY KEY,
        org TEXT NOT NULL,
        user TEXT NOT NULL,
        created_at TEXT NOT NULL,
        status TEXT NOT NULL,
        dataset_ids TEXT NOT NULL,
        finished_at TEXT,
        final_view TEXT
      );
      CREATE INDEX IF NOT EXISTS runs_by_org ON runs (org, created_at, id);
      CREATE INDEX IF NOT EXISTS runs_by_org_status ON runs (org, status, created_at, id);
      CREATE INDEX IF NOT EXISTS runs_finished ON runs (finished_at) WHERE finished_at IS NOT NULL;
      CREATE INDEX IF NOT EXISTS runs_unfinished ON runs (created_at) WHERE finished_at IS NULL;
      CREATE TABLE IF NOT EXISTS run_datasets (
        dataset_id TEXT NOT NULL,
        run_id TEXT NOT NULL,
        PRIMARY KEY (dataset_id, run_id)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    `);
  }

  async add(entry: Omit<RunIndexEntry, 'finishedAt' | 'finalView'>): Promise<void> {
    this.db.transaction(() => {
      const inserted = this.sql('INSERT OR IGNORE INTO runs (id, org, user, created_at, status, dataset_ids, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
        entry.id,
        entry.org,
        entry.user,
        entry.createdAt,
        entry.status,
        JSON.stringify(entry.datasetIds),
        FINISHED.includes(entry.status) ? entry.createdAt : null,
      );
      if (inserted.changes === 0) return;
      const link = this.sql('INSERT OR IGNORE INTO run_datasets (dataset_id, run_id) VALUES (?, ?)');
      for (const datasetId of entry.datasetIds) link.run(datasetId, entry.id);
    })();
  }

  async get(id: string): Promise<RunIndexEntry | undefined> {
    const row = this.sql('SELECT * FROM runs WHERE id = ?').get(id) as Row | undefined;
    return row === undefined ? undefined : entryOf(row);
  }

  async setStatus(id: string, status: WorkflowStatus, at: Date): Promise<void> {
    const finishedAt = FINISHED.includes(status) ? at.toISOString() : null;
    this.sql(`UPDATE runs SET status = ?, finished_at = ? WHERE id = ? AND status NOT IN (${FINISHED_SQL}) AND status != ?`).run(
      status,
      finishedAt,
      id,
      status,
    );
  }

  async saveFinalView(id: string, status: WorkflowStatus, at: Date, view: string): Promise<void> {
    this.sql('UPDATE runs SET status = ?, finished_at = coalesce(finished_at, ?), final_view = ? WHERE id = ?').run(status, at.toISOString(), view, id);
  }

  async page(org: string, query: { limit: number; status?: WorkflowStatus; after?: { createdAt: string; id: string } }): Promise<RunIndexEntry[]> {
    const where = ['org = @org'];
    if (query.status !== undefined) where.push('status = @status');
    if (query.after !== undefined) where.push('(created_at, id) < (@createdAt, @id)');
    const rows = this.sql(`SELECT * FROM runs WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT @limit`).all({
      org,
      limit: query.limit,
      ...(query.status !== undefined && { status: query.status }),
      ...query.after,
    }) as Row[];
    return rows.map(entryOf);
  }

  async unfinishedOn(datasetId: string): Promise<RunIndexEntry[]> {
    const rows = this.sql(
      'SELECT runs.* FROM run_datasets JOIN runs ON runs.id = run_datasets.run_id WHERE run_datasets.dataset_id = ? AND runs.finished_at IS NULL',
    ).all(datasetId) as Row[];
    return rows.map(entryOf);
  }

  async finishedBefore(cutoff: Date, limit: number): Promise<RunIndexEntry[]> {
    const rows = this.sql('SELECT * FROM runs WHERE finished_at IS NOT NULL AND finished_at < ? ORDER BY finished_at LIMIT ?').all(
      cutoff.toISOString(),
      limit,
    ) as Row[];
    return rows.map(entryOf);
  }

  async unfinishedBefore(cutoff: Date, limit: number): Promise<RunIndexEntry[]> {
    const rows = this.sql('SELECT * FROM runs WHERE finished_at IS NULL AND created_at < ? ORDER BY created_at LIMIT ?').all(
      cutoff.toISOString(),
      limit,
    ) as Row[];
    return rows.map(entryOf);
  }

  async remove(id: string): Promise<void> {
    this.db.transaction(() => {
      const row = this.sql('SELECT dataset_ids FROM runs WHERE id = ?').get(id) as Pick<Row, 'dataset_ids'> | undefined;
      if (row === undefined) return;
      const unlink = this.sql('DELETE FROM run_datasets WHERE dataset_id = ? AND run_id = ?');
      for (const datasetId of JSON.parse(row.dataset_ids) as string[]) unlink.run(datasetId, id);
      this.sql('DELETE FROM runs WHERE id = ?').run(id);
    })();
  }

  async backfilled(): Promise<boolean> {
    return this.sql("SELECT 1 FROM meta WHERE key = 'backfilled'").get() !== undefined;
  }

  async markBackfilled(): Promise<void> {
    this.sql("INSERT OR REPLACE INTO meta (key, value) VALUES ('backfilled', ?)").run(new Date().toISOString());
  }

  async compact(): Promise<void> {
    compact(this.db);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
