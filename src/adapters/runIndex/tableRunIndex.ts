import type { TokenCredential } from '@azure/core-auth';
import type { HttpClient } from '@azure/core-rest-pipeline';
import { odata, TableClient, type TableEntityResult } from '@azure/data-tables';
import { WORKFLOW_STATUSES, type WorkflowStatus } from '../../core/model';
import type { RunIndex, RunIndexEntry, RunIndexPosition } from '../../ports/runIndex';

const FINISHED: readonly WorkflowStatus[] = ['Succeeded', 'Failed', 'Canceled', 'Rejected'];
const isFinished = (s: WorkflowStatus) => FINISHED.includes(s);

/** A string property holds at most 64 KiB (32 Ki UTF-16 units), an entity at most 1 MiB: the
 * final view is split over `fv0`, `fv1`, ... and dropped (never cut) past `FINAL_VIEW_PARTS`
 * parts, marked `finalViewDropped`. Such a run is listed from its durable state, as a run still
 * going is; each read asks to save the view again, which then reads the run's row and rewrites
 * its copies but not the row. */
const FINAL_VIEW_PART = 30_000;
const FINAL_VIEW_PARTS = 14;

/** Keys may not hold `/ \ # ?` or control characters; anything but a plain name character
 * is escaped, so a separator (`|`) inside a value cannot forge another key. */
function keyPart(value: string): string {
  return value.replace(/[^A-Za-z0-9._@-]/g, (c) => `~${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function iso(text: string): string {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new Error(`run index: '${text}' is not a time`);
  return new Date(ms).toISOString();
}

/** Newest first in the service's ascending RowKey order: milliseconds to the year 2286, inverted. */
function listingKey(at: RunIndexPosition): string {
  const inverted = 9_999_999_999_999 - Date.parse(iso(at.createdAt));
  return `${String(inverted).padStart(13, '0')}|${keyPart(at.id)}`;
}

const keys = {
  run: (id: string) => ({ partitionKey: `run|${keyPart(id)}`, rowKey: 'run' }),
  org: (e: Pick<RunIndexEntry, 'org' | 'createdAt' | 'id'>) => ({ partitionKey: `org|${keyPart(e.org)}`, rowKey: listingKey(e) }),
  orgStatus: (e: Pick<RunIndexEntry, 'org' | 'createdAt' | 'id'>, status: WorkflowStatus) => ({
    partitionKey: `org|${keyPart(e.org)}|${status}`,
    rowKey: listingKey(e),
  }),
  dataset: (datasetId: string, id: string) => ({ partitionKey: `ds|${keyPart(datasetId)}`, rowKey: keyPart(id) }),
  open: (e: Pick<RunIndexEntry, 'createdAt' | 'id'>) => ({ partitionKey: 'open', rowKey: `${iso(e.createdAt)}|${keyPart(e.id)}` }),
  finished: (finishedAt: string, id: string) => ({ partitionKey: 'finished', rowKey: `${iso(finishedAt)}|${keyPart(id)}` }),
  backfilled: { partitionKey: 'meta', rowKey: 'backfilled' },
};

type Props = Record<string, string>;

function propsOf(e: RunIndexEntry): Props {
  const props: Props = { id: e.id, org: e.org, user: e.user, createdAt: e.createdAt, status: e.status, datasetIds: JSON.stringify(e.datasetIds) };
  if (e.finishedAt !== undefined) props.finishedAt = e.finishedAt;
  if (e.finalView !== undefined) {
    const parts = Math.ceil(e.finalView.length / FINAL_VIEW_PART);
    if (parts > FINAL_VIEW_PARTS) props.finalViewDropped = 'true';
    else for (let i = 0; i < parts; i++) props[`fv${i}`] = e.finalView.slice(i * FINAL_VIEW_PART, (i + 1) * FINAL_VIEW_PART);
  }
  return props;
}

function text(row: Record<string, unknown>, name: string): string | undefined {
  const v = row[name];
  return typeof v === 'string' ? v : undefined;
}

function entryOf(row: Record<string, unknown>): RunIndexEntry {
  const id = text(row, 'id') ?? '';
  const status = WORKFLOW_STATUSES.find((s) => s === row.status);
  if (status === undefined) throw new Error(`run index: run ${id} has an unknown status '${String(row.status)}'`);
  const parts: string[] = [];
  for (let i = 0; text(row, `fv${i}`) !== undefined; i++) parts.push(text(row, `fv${i}`)!);
  const finishedAt = text(row, 'finishedAt');
  return {
    id,
    org: text(row, 'org') ?? '',
    user: text(row, 'user') ?? '',
    createdAt: text(row, 'createdAt') ?? '',
    status,
    datasetIds: JSON.parse(text(row, 'datasetIds') ?? '[]') as string[],
    ...(finishedAt !== undefined && { finishedAt }),
    ...(parts.length > 0 && { finalView: parts.join('') }),
  };
}

function statusOf(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

async function ignoreMissing(p: Promise<unknown>): Promise<void> {
  await p.catch((err: unknown) => {
    if (statusOf(err) !== 404) throw err;
  });
}

export interface TableRunIndexOptions {
  /** The account's table endpoint, https://<account>.table.core.windows.net. */
  url: string;
  tableName: string;
  credential: TokenCredential;
  /** Tests: reach a fake (its certificate, its address). */
  httpClient?: HttpClient;
  retryOptions?: { maxRetries?: number };
}

/**
 * The run index in one Azure Table of the Function App's own storage account, shared by every
 * instance of a scaled-out app. Every read is one partition's range (PartitionKey equality),
 * never a scan:
 * - `run|<id>`: the run's row, the one the others are copies of or pointers to (`get`, and
 *   the check every other read's candidates go through). ETags make a finished status final.
 * - `org|<org>`, RowKey inverted creation time + id: the listing, newest first; a full copy,
 *   final view included, so a page is one range query.
 * - `org|<org>|<status>`, the same RowKey: a second copy, in the partition of the run's status
 *   (the copies under other statuses deleted), so a filtered page is a range query too rather
 *   than a `$filter` that may read the whole organization for a few rows.
 * - `ds|<dataset>`, RowKey id: the runs on a dataset while they are unfinished.
 * - `open`, RowKey creation time + id: unfinished runs, oldest first.
 * - `finished`, RowKey end time + id: finished runs, oldest end first (retention).
 *
 * Rows of different partitions cannot share a transaction (a batch is one partition), and no
 * two of these rows share one, so a write is the run's row first (conditional on its ETag),
 * then the others rewritten from it, each an idempotent upsert or delete, then the run's row
 * read back (`settle`: concurrent writers leave the copies as the last row). A crash between
 * them leaves copies behind the run's row, and they converge: a retried `add` rewrites them
 * all; `setStatus` or `saveFinalView` with what the run's row already holds (what the app
 * calls when a listed row differs from the durable state) rewrites them; `unfinishedOn` and the
 * time-ordered reads check each candidate against the run's row and repair or drop stale
 * pointers; `remove` deletes the run's row last, so a repeat finds what is left.
 */
export class TableRunIndex implements RunIndex {
  private readonly client: TableClient;
  private ready: Promise<void> | undefined;

  constructor(options: TableRunIndexOptions) {
    this.client = new TableClient(options.url, options.tableName, options.credential, {
      ...(options.httpClient !== undefined && { httpClient: options.httpClient }),
      ...(options.retryOptions !== undefined && { retryOptions: options.retryOptions }),
    });
  }

  /** main.bicep creates the table; creating it if missing serves a fresh account. */
  private async table(): Promise<TableClient> {
    this.ready ??= this.client.createTable().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    await this.ready;
    return this.client;
  }

  private async read(id: string): Promise<{ entry: RunIndexEntry; dropped: boolean; etag: string } | undefined> {
    const k = keys.run(id);
    try {
      const row = await (await this.table()).getEntity<Record<string, unknown>>(k.partitionKey, k.rowKey);
      return { entry: entryOf(row), dropped: row.finalViewDropped === 'true', etag: row.etag };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  /** The pointer rows a run has in its present state. */
  private pointers(e: RunIndexEntry): { partitionKey: string; rowKey: string }[] {
    return isFinished(e.status) ? [keys.finished(e.finishedAt ?? e.createdAt, e.id)] : [keys.open(e), ...e.datasetIds.map((d) => keys.dataset(d, e.id))];
  }

  /** Rewrites every copy and pointer of a run from its row (idempotent). */
  private async sync(e: RunIndexEntry): Promise<void> {
    const t = await this.table();
    const props = propsOf(e);
    const writes: Promise<unknown>[] = [
      t.upsertEntity({ ...keys.org(e), ...props }, 'Replace'),
      t.upsertEntity({ ...keys.orgStatus(e, e.status), ...props }, 'Replace'),
    ];
    // The copy under any other status is stale; which one the run had before need not be known.
    for (const other of WORKFLOW_STATUSES.filter((st) => st !== e.status)) {
      const k = keys.orgStatus(e, other);
      writes.push(ignoreMissing(t.deleteEntity(k.partitionKey, k.rowKey)));
    }
    for (const k of this.pointers(e)) writes.push(t.upsertEntity({ ...k, id: e.id }, 'Replace'));
    if (isFinished(e.status)) {
      for (const k of [keys.open(e), ...e.datasetIds.map((d) => keys.dataset(d, e.id))]) writes.push(ignoreMissing(t.deleteEntity(k.partitionKey, k.rowKey)));
    }
    await Promise.all(writes);
  }

  async add(entry: Omit<RunIndexEntry, 'finishedAt' | 'finalView'>): Promise<void> {
    const e: RunIndexEntry = { ...entry, ...(isFinished(entry.status) && { finishedAt: entry.createdAt }) };
    let created: string | undefined;
    try {
      created = (await (await this.table()).createEntity({ ...keys.run(e.id), ...propsOf(e) })).etag;
    } catch (err) {
      if (statusOf(err) !== 409) throw err;
    }
    if (created !== undefined) return this.settle(e.id, e, created);
    const stored = await this.read(e.id);
    if (stored !== undefined) await this.settle(e.id, stored.entry, stored.etag);
  }

  /**
   * Rewrites the copies from the run's row as of `etag`, then reads the row again: if another
   * writer changed it meanwhile, this rewrite may have landed after that writer's, so it is
   * done again from the newer row (and a removed run's copies are removed), until the row
   * read back is the one the copies were written from. The last writer thus always leaves the
   * copies in step with the row.
   */
  private async settle(id: string, entry: RunIndexEntry, etag: string | undefined): Promise<void> {
    for (let e = entry, tag = etag; ;) {
      await this.sync(e);
      const now = await this.read(id);
      if (now === undefined) return this.removeRows(e);
      if (now.etag === tag) return;
      [e, tag] = [now.entry, now.etag];
    }
  }

  async get(id: string): Promise<RunIndexEntry | undefined> {
    return (await this.read(id))?.entry;
  }

  /** Writes the run's row if `change` gives a new one, retrying on a concurrent write (412);
   * then rewrites the copies from whatever the row holds. */
  private async update(id: string, change: (current: RunIndexEntry, dropped: boolean) => RunIndexEntry | undefined): Promise<void> {
    for (;;) {
      const current = await this.read(id);
      if (current === undefined) return;
      const next = change(current.entry, current.dropped);
      if (next === undefined) return this.settle(id, current.entry, current.etag);
      let written: string | undefined;
      try {
        written = (await (await this.table()).updateEntity({ ...keys.run(id), ...propsOf(next) }, 'Replace', { etag: current.etag })).etag;
      } catch (err) {
        if (statusOf(err) === 412) continue;
        throw err;
      }
      return this.settle(id, next, written);
    }
  }

  async setStatus(id: string, status: WorkflowStatus, at: Date): Promise<void> {
    await this.update(id, (current) => {
      if (isFinished(current.status) || current.status === status) return undefined;
      const { finishedAt: _, ...rest } = current;
      return { ...rest, status, ...(isFinished(status) && { finishedAt: at.toISOString() }) };
    });
  }

  async saveFinalView(id: string, status: WorkflowStatus, at: Date, view: string): Promise<void> {
    await this.update(id, (current, dropped) => {
      if (current.status === status && current.finishedAt !== undefined && (current.finalView === view || dropped)) return undefined;
      return { ...current, status, finishedAt: current.finishedAt ?? at.toISOString(), finalView: view };
    });
  }

  async page(org: string, query: { limit: number; status?: WorkflowStatus; after?: RunIndexPosition }): Promise<RunIndexEntry[]> {
    const partition = `org|${keyPart(org)}${query.status === undefined ? '' : `|${query.status}`}`;
    const clauses = [odata`PartitionKey eq ${partition}`];
    if (query.after !== undefined) clauses.push(odata`RowKey gt ${listingKey(query.after)}`);
    return (await this.query(clauses.join(' and '), query.limit)).map(entryOf);
  }

  /** One partition's rows in key order, following continuations until `limit` (the service
   * may answer with fewer rows, even none, and a continuation). */
  private async query(filter: string, limit: number): Promise<TableEntityResult<Record<string, unknown>>[]> {
    const rows: TableEntityResult<Record<string, unknown>>[] = [];
    const pages = (await this.table()).listEntities<Record<string, unknown>>({ queryOptions: { filter } }).byPage({ maxPageSize: Math.min(limit, 1000) });
    for await (const page of pages) {
      for (const row of page) {
        rows.push(row);
        if (rows.length >= limit) return rows;
      }
    }
    return rows;
  }

  /** The runs behind pointer rows, checked against their own rows: a pointer to a removed run
   * is dropped, one that disagrees with its run is rewritten (a crash between writes). */
  private async resolve(pointers: TableEntityResult<Record<string, unknown>>[], wanted: (e: RunIndexEntry) => boolean): Promise<RunIndexEntry[]> {
    const t = await this.table();
    const found = await Promise.all(
      pointers.map(async (row) => {
        const p = { partitionKey: row.partitionKey ?? '', rowKey: row.rowKey ?? '' };
        const run = await this.read(text(row, 'id') ?? '');
        if (run === undefined) {
          await ignoreMissing(t.deleteEntity(p.partitionKey, p.rowKey));
          return undefined;
        }
        if (wanted(run.entry)) return run.entry;
        if (!this.pointers(run.entry).some((k) => k.partitionKey === p.partitionKey && k.rowKey === p.rowKey)) {
          await ignoreMissing(t.deleteEntity(p.partitionKey, p.rowKey));
        }
        await this.settle(run.entry.id, run.entry, run.etag);
        return undefined;
      }),
    );
    return found.filter((e): e is RunIndexEntry => e !== undefined);
  }

  async unfinishedOn(datasetId: string): Promise<RunIndexEntry[]> {
    const pointers = await this.query(odata`PartitionKey eq ${keys.dataset(datasetId, '').partitionKey}`, Number.MAX_SAFE_INTEGER);
    return this.resolve(pointers, (e) => !isFinished(e.status) && e.datasetIds.includes(datasetId));
  }

  async finishedBefore(cutoff: Date, limit: number): Promise<RunIndexEntry[]> {
    const pointers = await this.query(odata`PartitionKey eq ${'finished'} and RowKey lt ${cutoff.toISOString()}`, limit);
    return this.resolve(pointers, (e) => isFinished(e.status) && e.finishedAt !== undefined && iso(e.finishedAt) < cutoff.toISOString());
  }

  async unfinishedBefore(cutoff: Date, limit: number): Promise<RunIndexEntry[]> {
    const pointers = await this.query(odata`PartitionKey eq ${'open'} and RowKey lt ${cutoff.toISOString()}`, limit);
    return this.resolve(pointers, (e) => !isFinished(e.status));
  }

  async remove(id: string): Promise<void> {
    const run = await this.read(id);
    if (run === undefined) return;
    await this.removeRows(run.entry);
    const k = keys.run(id);
    await ignoreMissing((await this.table()).deleteEntity(k.partitionKey, k.rowKey));
  }

  /** Every copy and pointer a run may have, whatever state it was written in. */
  private async removeRows(e: RunIndexEntry): Promise<void> {
    const t = await this.table();
    const rows = [keys.org(e), ...WORKFLOW_STATUSES.map((st) => keys.orgStatus(e, st)), keys.open(e), ...e.datasetIds.map((d) => keys.dataset(d, e.id))];
    if (e.finishedAt !== undefined) rows.push(keys.finished(e.finishedAt, e.id));
    await Promise.all(rows.map((k) => ignoreMissing(t.deleteEntity(k.partitionKey, k.rowKey))));
  }

  async backfilled(): Promise<boolean> {
    try {
      await (await this.table()).getEntity(keys.backfilled.partitionKey, keys.backfilled.rowKey);
      return true;
    } catch (err) {
      if (statusOf(err) === 404) return false;
      throw err;
    }
  }

  async markBackfilled(): Promise<void> {
    await (await this.table()).upsertEntity({ ...keys.backfilled, at: new Date().toISOString() }, 'Replace');
  }

  /** The service reclaims deleted entities' space itself. */
  async compact(): Promise<void> {}

  async close(): Promise<void> {}
}
