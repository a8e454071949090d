import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { WorkflowStatus } from '../../src/core/model';
import type { RunIndex, RunIndexEntry, RunIndexPosition } from '../../src/ports/runIndex';

/** What every RunIndex must do; run against each (SQLite, Azure Table on the fake). */
export interface RunIndexSubject {
  index: RunIndex;
  close(): Promise<void>;
}

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString();
const positionOf = (e: RunIndexEntry): RunIndexPosition => ({ createdAt: e.createdAt, id: e.id });

function run(org: string, minute: number, extra: Partial<RunIndexEntry> = {}): Omit<RunIndexEntry, 'finishedAt' | 'finalView'> {
  return { id: randomUUID(), org, user: 'alice', createdAt: at(minute), status: 'Pending', datasetIds: [], ...extra };
}

/** Every page of an organization's listing, following the last row as the cursor. */
async function allPages(index: RunIndex, org: string, limit: number, status?: WorkflowStatus): Promise<RunIndexEntry[][]> {
  const pages: RunIndexEntry[][] = [];
  let after: RunIndexPosition | undefined;
  for (;;) {
    const page = await index.page(org, { limit, ...(status !== undefined && { status }), ...(after !== undefined && { after }) });
    if (page.length === 0) return pages;
    pages.push(page);
    after = positionOf(page.at(-1)!);
  }
}

export function runIndexContract(label: string, open: () => Promise<RunIndexSubject>): void {
  const withIndex = (name: string, body: (index: RunIndex) => Promise<void>) =>
    test(`${label}: ${name}`, async () => {
      const s = await open();
      try {
        await body(s.index);
      } finally {
        await s.index.close();
        await s.close();
      }
    });

  withIndex('add and get; a repeated add keeps the stored row', async (index) => {
    const r = run('uis', 1, { datasetIds: ['d1', 'd2'] });
    await index.add(r);
    await index.add({ ...r, user: 'mallory', status: 'Running' });
    assert.deepEqual(await index.get(r.id), r);
    assert.equal(await index.get(randomUUID()), undefined);
  });

  withIndex('an organization is listed newest first, ties by id, in pages that neither skip nor repeat', async (index) => {
    const rows = [];
    for (let i = 0; i < 7; i++) rows.push(run('uis', i % 3));
    for (const r of rows) await index.add(r);
    await index.add(run('uio', 1));
    const pages = await allPages(index, 'uis', 3);
    assert.deepEqual(
      pages.map((p) => p.length),
      [3, 3, 1],
    );
    const listed = pages.flat();
    assert.equal(new Set(listed.map((e) => e.id)).size, 7);
    assert.ok(listed.every((e) => e.org === 'uis'));
    for (let i = 1; i < listed.length; i++) assert.ok(listed[i - 1]!.createdAt >= listed[i]!.createdAt, 'newest first');
  });

  withIndex('a status filter pages across the store (a filtered page may need several reads)', async (index) => {
    const running: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = run('uis', i);
      await index.add(r);
      if (i % 4 === 0) {
        await index.setStatus(r.id, 'Running', new Date());
        running.push(r.id);
      }
    }
    const pages = await allPages(index, 'uis', 2, 'Running');
    assert.deepEqual(
      pages.map((p) => p.length),
      [2, 2, 1],
    );
    assert.deepEqual(
      pages.flat().map((e) => e.id),
      running.reverse(),
    );
    assert.ok(pages.flat().every((e) => e.status === 'Running'));
  });

  withIndex('hostile organization names, ids and positions select nothing of another organization', async (index) => {
    const theirs = run('uio', 5, { id: `x'|/#?\u0001` });
    await index.add(theirs);
    await index.add(run('uis', 4));
    assert.deepEqual(await index.get(theirs.id), theirs);
    for (const org of ["uis' or PartitionKey ne '", 'uis|', 'uio ', "' or 1 eq 1 or 'a' eq '", 'org|uio']) {
      assert.deepEqual(await index.page(org, { limit: 10 }), [], org);
    }
    const mine = await index.page('uis', { limit: 10, after: { createdAt: at(9), id: "z' or PartitionKey ne 'x" } });
    assert.deepEqual(
      mine.map((e) => e.org),
      ['uis'],
    );
  });

  withIndex('a finished status is final; finishing sets finishedAt', async (index) => {
    const r = run('uis', 1);
    await index.add(r);
    await index.setStatus(r.id, 'Running', new Date(at(2)));
    assert.equal((await index.get(r.id))?.finishedAt, undefined);
    await index.setStatus(r.id, 'Succeeded', new Date(at(3)));
    await index.setStatus(r.id, 'Running', new Date(at(4)));
    await index.setStatus(r.id, 'Failed', new Date(at(5)));
    const got = await index.get(r.id);
    assert.equal(got?.status, 'Succeeded');
    assert.equal(got?.finishedAt, at(3));
    assert.equal((await index.page('uis', { limit: 5 }))[0]?.status, 'Succeeded');
    await index.setStatus(randomUUID(), 'Running', new Date());
  });

  withIndex('concurrent status writes: one finished status wins everywhere and stays', async (index) => {
    for (let round = 0; round < 5; round++) {
      const r = run('uis', round, { datasetIds: ['shared'] });
      await index.add(r);
      await Promise.all([
        index.setStatus(r.id, 'Succeeded', new Date(at(30))),
        index.setStatus(r.id, 'Canceled', new Date(at(31))),
        index.setStatus(r.id, 'Running', new Date(at(32))),
      ]);
      const got = await index.get(r.id);
      assert.ok(got?.status === 'Succeeded' || got?.status === 'Canceled', got?.status);
      const listed = (await index.page('uis', { limit: 50 })).find((e) => e.id === r.id);
      assert.equal(listed?.status, got.status, 'the listing agrees with the run');
      assert.deepEqual(
        (await index.finishedBefore(new Date(at(60)), 50)).filter((e) => e.id === r.id).map((e) => e.status),
        [got.status],
      );
    }
    assert.deepEqual(await index.unfinishedOn('shared'), []);
  });

  withIndex('saveFinalView keeps the view (large ones too) and marks the run finished', async (index) => {
    const r = run('uis', 1, { datasetIds: ['d'] });
    await index.add(r);
    const view = JSON.stringify({ id: r.id, status: 'Failed', log: 'é'.repeat(200_000) });
    await index.saveFinalView(r.id, 'Failed', new Date(at(9)), view);
    const got = await index.get(r.id);
    assert.equal(got?.status, 'Failed');
    assert.equal(got?.finishedAt, at(9));
    assert.equal(got?.finalView, view);
    assert.equal((await index.page('uis', { limit: 1, status: 'Failed' }))[0]?.finalView, view);
    assert.deepEqual(await index.unfinishedOn('d'), []);
    const huge = 'x'.repeat(2_000_000);
    await index.saveFinalView(r.id, 'Failed', new Date(at(10)), huge);
    const after = await index.get(r.id);
    assert.equal(after?.status, 'Failed');
    assert.equal(after?.finishedAt, at(9), 'the end stays when it was known');
    assert.ok(after?.finalView === undefined || after.finalView === huge, 'a view too large to keep is dropped, never cut');
  });

  withIndex('unfinishedOn: the runs on a dataset not known to have ended', async (index) => {
    const a = run('uis', 1, { datasetIds: ['d1', 'd2'] });
    const b = run('uio', 2, { datasetIds: ['d1'] });
    const c = run('uis', 3, { datasetIds: ['d1'] });
    const d = run('uis', 4, { datasetIds: ['d3'] });
    for (const r of [a, b, c, d]) await index.add(r);
    await index.setStatus(a.id, 'Running', new Date());
    await index.setStatus(c.id, 'Canceled', new Date());
    assert.deepEqual((await index.unfinishedOn('d1')).map((e) => e.id).sort(), [a.id, b.id].sort());
    assert.deepEqual(
      (await index.unfinishedOn('d2')).map((e) => e.status),
      ['Running'],
    );
    assert.deepEqual(await index.unfinishedOn('none'), []);
    await index.add(run('uis', 5, { datasetIds: ['d4'], status: 'Rejected' }));
    assert.deepEqual(await index.unfinishedOn('d4'), []);
  });

  withIndex('finishedBefore: oldest end first, strictly before the cutoff, at most limit', async (index) => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = run('uis', i);
      await index.add(r);
      await index.setStatus(r.id, 'Succeeded', new Date(at(20 - i)));
      ids.push(r.id);
    }
    await index.add(run('uis', 9));
    assert.deepEqual(
      (await index.finishedBefore(new Date(at(18)), 10)).map((e) => e.id),
      [ids[4], ids[3]],
    );
    assert.deepEqual(
      (await index.finishedBefore(new Date(at(60)), 3)).map((e) => e.finishedAt),
      [at(16), at(17), at(18)],
    );
  });

  withIndex('unfinishedBefore: unfinished runs created before the cutoff, oldest first', async (index) => {
    const old1 = run('uis', 1);
    const old2 = run('uio', 2);
    const done = run('uis', 3);
    const recent = run('uis', 30);
    for (const r of [old2, recent, done, old1]) await index.add(r);
    await index.setStatus(done.id, 'Failed', new Date());
    assert.deepEqual(
      (await index.unfinishedBefore(new Date(at(10)), 10)).map((e) => e.id),
      [old1.id, old2.id],
    );
    assert.deepEqual(
      (await index.unfinishedBefore(new Date(at(10)), 1)).map((e) => e.id),
      [old1.id],
    );
  });

  withIndex('remove takes a run out of every read; removing again is harmless', async (index) => {
    const a = run('uis', 1, { datasetIds: ['d'] });
    const b = run('uis', 2, { datasetIds: ['d'] });
    await index.add(a);
    await index.add(b);
    await index.setStatus(b.id, 'Succeeded', new Date(at(3)));
    await index.remove(a.id);
    await index.remove(b.id);
    await index.remove(b.id);
    assert.equal(await index.get(a.id), undefined);
    assert.deepEqual(await index.page('uis', { limit: 10 }), []);
    assert.deepEqual(await index.unfinishedOn('d'), []);
    assert.deepEqual(await index.finishedBefore(new Date(at(60)), 10), []);
    assert.deepEqual(await index.unfinishedBefore(new Date(at(60)), 10), []);
  });

  withIndex('backfilled is false until marked; compact leaves the rows', async (index) => {
    assert.equal(await index.backfilled(), false);
    await index.markBackfilled();
    assert.equal(await index.backfilled(), true);
    const r = run('uis', 1);
    await index.add(r);
    await index.compact();
    assert.deepEqual(await index.get(r.id), r);
  });
}
