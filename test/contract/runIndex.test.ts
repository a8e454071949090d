import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { SqliteRunIndex } from '../../src/adapters/runIndex/sqliteRunIndex';
import { TableRunIndex } from '../../src/adapters/runIndex/tableRunIndex';
import { createHttpHeaders, createPipelineRequest } from '@azure/core-rest-pipeline';
import { FAKE_TABLE_TOKEN, FakeTableServer } from '../fakes/tableServer';
import { runIndexContract } from './runIndex.contract';

const TABLE = 'ledgerflowruns';

function tableIndex(server: FakeTableServer): TableRunIndex {
  return new TableRunIndex({
    url: server.url,
    tableName: TABLE,
    credential: server.credential(),
    httpClient: server.httpClient(),
    retryOptions: { maxRetries: 0 },
  });
}

runIndexContract('sqlite', async () => ({ index: new SqliteRunIndex(':memory:'), close: async () => {} }));

runIndexContract('azure-table', async () => {
  const server = await FakeTableServer.start();
  // One row per response, as the service may answer a query that runs long: a page then takes
  // several reads with continuations, some of them empty.
  server.scanLimit = 1;
  return { index: tableIndex(server), close: () => server.close() };
});

const run = (org: string, minute: number, datasetIds: string[] = []) => ({
  id: randomUUID(),
  org,
  user: 'alice',
  createdAt: new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString(),
  status: 'Pending' as const,
  datasetIds,
});

test('azure-table: every query the index makes is one partition (PartitionKey equality), never a table scan', async () => {
  const server = await FakeTableServer.start();
  server.scanLimit = 2;
  const index = tableIndex(server);
  try {
    for (let i = 0; i < 6; i++) {
      const r = run(i % 2 === 0 ? 'uis' : 'uio', i, ['d1']);
      await index.add(r);
      if (i % 3 === 0) await index.setStatus(r.id, 'Succeeded', new Date(Date.UTC(2026, 0, 1, 1, i)));
    }
    await index.page('uis', { limit: 2 });
    const first = await index.page('uis', { limit: 1, status: 'Pending' });
    await index.page('uis', { limit: 5, status: 'Pending', after: first[0]! });
    await index.unfinishedOn('d1');
    await index.finishedBefore(new Date(Date.UTC(2026, 0, 2)), 10);
    await index.unfinishedBefore(new Date(Date.UTC(2026, 0, 2)), 10);
    assert.ok(server.filters.length >= 6, `queries seen: ${server.filters.length}`);
    for (const filter of server.filters) assert.match(filter, /^PartitionKey eq '[^']*'( and |$)/, filter);
    assert.ok(
      server.filters.some((f) => f.startsWith("PartitionKey eq 'org|uis|Pending' and RowKey gt ")),
      'a filtered page is a range of the status partition',
    );
    assert.ok(server.continuations > 0, "pages followed the service's continuations");
    assert.ok(
      server.requests.some((r) => r.startsWith('GET') && r.includes('()')),
      'queries went over the wire',
    );
  } finally {
    await server.close();
  }
});

test('azure-table: copies and pointers left behind by a crash between writes converge', async () => {
  const server = await FakeTableServer.start();
  const index = tableIndex(server);
  const raw = new TableClient(server.url, TABLE, server.credential(), { httpClient: server.httpClient() });
  try {
    const r = run('uis', 1, ['d1']);
    await index.add(r);
    await index.setStatus(r.id, 'Succeeded', new Date(Date.UTC(2026, 0, 1, 2)));
    // As if the process died right after writing the run's row: the listing copy still says
    // Pending, the dataset and open pointers are still there, the finished pointer is not.
    const rows = server.rows(TABLE);
    const listing = rows.find((x) => x.partitionKey === 'org|uis')!;
    await raw.upsertEntity({ partitionKey: listing.partitionKey, rowKey: listing.rowKey, ...listing.props, status: 'Pending' }, 'Replace');
    await raw.upsertEntity({ partitionKey: 'ds|d1', rowKey: r.id, id: r.id }, 'Replace');
    await raw.upsertEntity({ partitionKey: 'open', rowKey: `${r.createdAt}|${r.id}`, id: r.id }, 'Replace');
    const finished = rows.find((x) => x.partitionKey === 'finished')!;
    server.drop(TABLE, finished.partitionKey, finished.rowKey);

    assert.deepEqual(await index.unfinishedOn('d1'), [], 'a pointer is checked against the run');
    assert.deepEqual(await index.unfinishedBefore(new Date(Date.UTC(2026, 0, 2)), 10), []);
    assert.equal(server.rows(TABLE).filter((x) => x.partitionKey === 'ds|d1' || x.partitionKey === 'open').length, 0, 'stale pointers are gone');
    assert.deepEqual(
      (await index.finishedBefore(new Date(Date.UTC(2026, 0, 2)), 10)).map((e) => e.id),
      [r.id],
      'the finished pointer was rewritten',
    );
    // The listing copy: the app sees Pending listed, the durable state says Succeeded, and
    // writes that status, which the run's row already has: the copy is rewritten.
    await raw.upsertEntity({ partitionKey: listing.partitionKey, rowKey: listing.rowKey, ...listing.props, status: 'Pending' }, 'Replace');
    await raw.upsertEntity({ partitionKey: 'org|uis|Pending', rowKey: listing.rowKey, ...listing.props, status: 'Pending' }, 'Replace');
    assert.equal((await index.page('uis', { limit: 1 }))[0]?.status, 'Pending');
    assert.equal((await index.page('uis', { limit: 1, status: 'Pending' }))[0]?.id, r.id);
    await index.setStatus(r.id, 'Succeeded', new Date());
    assert.equal((await index.page('uis', { limit: 1 }))[0]?.status, 'Succeeded');
    assert.deepEqual(await index.page('uis', { limit: 1, status: 'Pending' }), [], 'the copy under the old status is gone');
    assert.equal((await index.page('uis', { limit: 1, status: 'Succeeded' }))[0]?.id, r.id);

    // A retried add after a crash that left only the run's row rewrites the rest.
    const s = run('uis', 5, ['d2']);
    await index.add(s);
    for (const row of server.rows(TABLE).filter((x) => x.props.id === s.id && !x.partitionKey.startsWith('run|')))
      server.drop(TABLE, row.partitionKey, row.rowKey);
    assert.deepEqual(await index.unfinishedOn('d2'), []);
    await index.add(s);
    assert.deepEqual(
      (await index.unfinishedOn('d2')).map((e) => e.id),
      [s.id],
    );
    assert.equal((await index.page('uis', { limit: 1 }))[0]?.id, s.id);
  } finally {
    await server.close();
  }
});

test('azure-table: a final view past what an entity holds is dropped (the app reads the durable state), never cut', async () => {
  const server = await FakeTableServer.start();
  const index = tableIndex(server);
  try {
    const r = run('uis', 1);
    await index.add(r);
    await index.saveFinalView(r.id, 'Succeeded', new Date(), 'v'.repeat(600_000));
    const got = await index.get(r.id);
    assert.equal(got?.status, 'Succeeded');
    assert.equal(got?.finalView, undefined);
    const writes = server.requests.length;
    await index.saveFinalView(r.id, 'Succeeded', new Date(), 'v'.repeat(600_000));
    assert.deepEqual(
      server.requests.slice(writes).filter((x) => /^(PUT|PATCH|MERGE) .*PartitionKey='run\|/.test(x)),
      [],
      'saving the same dropped view again does not rewrite the run row',
    );
  } finally {
    await server.close();
  }
});

test('azure-table: the fake refuses what the service refuses (oversized property, bad key, unsupported filter)', async () => {
  const server = await FakeTableServer.start();
  const raw = new TableClient(server.url, TABLE, server.credential(), { httpClient: server.httpClient(), retryOptions: { maxRetries: 0 } });
  try {
    await raw.createTable();
    await raw.createTable();
    await assert.rejects(
      raw.createEntity({ partitionKey: 'p', rowKey: 'r', big: 'x'.repeat(40_000) }),
      (e: unknown) => (e as { statusCode?: number }).statusCode === 400,
    );
    await assert.rejects(raw.createEntity({ partitionKey: 'p/q', rowKey: 'r' }), (e: unknown) => (e as { statusCode?: number }).statusCode === 400);
    await raw.createEntity({ partitionKey: 'p', rowKey: 'r', v: 'a' });
    await assert.rejects(raw.createEntity({ partitionKey: 'p', rowKey: 'r' }), (e: unknown) => (e as { statusCode?: number }).statusCode === 409);
    const got = await raw.getEntity('p', 'r');
    await raw.updateEntity({ partitionKey: 'p', rowKey: 'r', v: 'b' }, 'Merge', { etag: got.etag });
    await assert.rejects(
      raw.updateEntity({ partitionKey: 'p', rowKey: 'r', v: 'c' }, 'Replace', { etag: got.etag }),
      (e: unknown) => (e as { statusCode?: number }).statusCode === 412,
    );
    assert.equal((await raw.getEntity<{ v: string }>('p', 'r')).v, 'b');
    const bare = await server.httpClient().sendRequest(
      createPipelineRequest({
        url: `${server.url}/${TABLE}()?$filter=${encodeURIComponent("PartitionKey eq 'p'")}`,
        headers: createHttpHeaders({ accept: 'application/json;odata=nometadata', authorization: `Bearer ${FAKE_TABLE_TOKEN}` }),
      }),
    );
    assert.deepEqual(
      (JSON.parse(bare.bodyAsText ?? '{}') as { value: Record<string, unknown>[] }).value.map((e) => Object.keys(e).sort()),
      [['PartitionKey', 'RowKey', 'Timestamp', 'v']],
    );
    const listed = raw.listEntities({ queryOptions: { filter: "PartitionKey eq 'p' or RowKey eq 'r'" } });
    await assert.rejects(listed.next(), (e: unknown) => (e as { statusCode?: number }).statusCode === 501);
  } finally {
    await server.close();
  }
});
