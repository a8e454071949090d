import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { after, test } from 'node:test';
import type { OrchestrationContext } from 'durable-functions';
import { CommittedRows } from '../../../src/durable/committedRows';
import { DurableEngine } from '../../../src/durable/engine';
import { DurableStore, type InstanceRow } from '../../../src/durable/store';
import { directPort } from '../../../bench/support/durableDirectPort';
import { eventually } from '../../../bench/support/host';

// Status reads are answered from the rows the engine's own transactions committed: never a
// row not yet committed, never one older than the store already gave out, and what they
// give is what the store holds.

const row = (instanceId: string, status: InstanceRow['status'], updatedAt: number): InstanceRow => ({
  instanceId,
  name: 'o',
  executionId: 'e',
  status,
  input: undefined,
  output: undefined,
  customStatus: undefined,
  failure: undefined,
  createdAt: 1,
  updatedAt,
  parentInstanceId: undefined,
});

test('a row is given out once its batch committed, and not while a later batch for it is on its way', () => {
  const rows = new CommittedRows();
  const first = rows.writing({ putInstances: [row('a', 'Pending', 1)] });
  assert.equal(rows.get('a'), undefined, 'written, not committed');
  first?.(true);
  assert.equal(rows.get('a')?.status, 'Pending');
  const second = rows.writing({ putInstances: [row('a', 'Running', 2)] });
  const third = rows.writing({ putInstances: [row('a', 'Completed', 3)] });
  assert.equal(rows.get('a'), undefined, 'batches on their way: the store answers');
  second?.(true);
  assert.equal(rows.get('a'), undefined, 'the second committed, the third may have too: still the store');
  third?.(true);
  assert.equal(rows.get('a')?.status, 'Completed');
  // A failed transaction leaves the store to answer; a purge forgets the row.
  rows.writing({ putInstances: [row('a', 'Failed', 4)] })?.(false);
  assert.equal(rows.get('a'), undefined);
  rows.writing({ putInstances: [row('b', 'Completed', 1)] })?.(true);
  rows.writing({ deleteInstances: ['b'] })?.(true);
  assert.equal(rows.get('b'), undefined);
  // Delete and recreate in one batch (a start that reuses a finished id): the new row.
  rows.writing({ deleteInstances: ['c'], putInstances: [row('c', 'Pending', 5)] })?.(true);
  assert.equal(rows.get('c')?.status, 'Pending');
  assert.equal(rows.writing({ insertMessages: [] }), undefined, 'no instance rows: nothing to follow');
});

test('the oldest rows make room past the limit', () => {
  const rows = new CommittedRows(2);
  for (const id of ['a', 'b', 'c']) rows.writing({ putInstances: [row(id, 'Completed', 1)] })?.(true);
  assert.deepEqual(
    ['a', 'b', 'c'].map((id) => rows.get(id)?.instanceId),
    [undefined, 'b', 'c'],
  );
});

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

test("the engine's status reads give the rows the store holds", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'committed-rows-'));
  dirs.push(dir);
  const store = new DurableStore(join(dir, 'durable.db'));
  const engine = new DurableEngine({
    store,
    functions: directPort(
      {
        twice: function* (ctx: OrchestrationContext) {
          ctx.df.setCustomStatus({ step: 1 });
          return yield ctx.df.callActivity('double', ctx.df.getInput());
        },
        fails: function* (ctx: OrchestrationContext) {
          yield ctx.df.callActivity('boom', 1);
        },
        waits: function* (ctx: OrchestrationContext) {
          return yield ctx.df.waitForExternalEvent('go');
        },
      },
      {
        double: (x) => (x as number) * 2,
        boom: () => {
          throw new Error('no');
        },
      },
    ),
  });
  engine.start();
  try {
    const ids = [
      await engine.startNew('twice', { input: 2 }),
      await engine.startNew('fails'),
      await engine.startNew('waits', { instanceId: 'w' }),
      await engine.startNew('twice', { instanceId: 'again', input: 1 }),
    ];
    // The writer thread commits while this runs: an engine read is checked against the
    // store's row read before and after it, when those agree (nothing committed for the
    // instance between them). Comparing with one store read failed once in CI: the engine
    // read the store, the writer committed the instance's next episode, the store read that.
    const same = (id: string): void => {
      for (;;) {
        const before = store.getInstance(id);
        const got = engine.getStatus(id)?.row;
        if (!isDeepStrictEqual(before, store.getInstance(id))) continue;
        assert.deepEqual(got, before, id);
        return;
      }
    };
    ids.forEach(same);
    await eventually(() => (engine.getStatus(ids[0] as string)?.row.status === 'Completed' ? true : undefined), 10_000, 'twice to complete');
    await eventually(() => (engine.getStatus(ids[1] as string)?.row.status === 'Failed' ? true : undefined), 10_000, 'fails to fail');
    await eventually(() => (engine.getStatus('again')?.row.status === 'Completed' ? true : undefined), 10_000, 'again to complete');
    await engine.terminate('w', 'enough');
    await eventually(() => (engine.getStatus('w')?.row.status === 'Terminated' ? true : undefined), 10_000, 'w to be terminated');
    ids.forEach(same);
    // A finished id started again, then purged.
    await engine.startNew('twice', { instanceId: 'again', input: 5 });
    same('again');
    await eventually(() => (engine.getStatus('again')?.row.output === '10' ? true : undefined), 10_000, 'again to complete again');
    same('again');
    await engine.purge('again');
    assert.equal(engine.getStatus('again'), undefined);
    // What a caller does to the row it got is not what the next caller gets.
    const got = engine.getStatus(ids[0] as string)?.row as InstanceRow;
    got.status = 'Failed';
    same(ids[0] as string);
  } finally {
    await engine.stop();
    engine.close();
    store.close();
  }
});
