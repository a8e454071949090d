import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { DatasetRecord, HistoryEntry } from '@ledgerflow/chaincode';
import { createIdentity, createPlatformIdentity, type TestIdentity } from '../../helpers/identities';
import { errorOf, LedgerHarness, newDataset, type Outcome } from '../../helpers/ledgerHarness';

/**
 * Random sequences of operations by three identities (two in one org) against a model of
 * what the contract must decide. Invariants: every outcome matches the model, so a lease
 * is only taken when free or expired and only owners change datasets; of two racing takes
 * at most one commits; and each dataset's history has one entry per committed change.
 */
let people: TestIdentity[];
let platform: TestIdentity;
before(async () => {
  people = await Promise.all([createIdentity('alice', 'uis'), createIdentity('carol', 'uis'), createIdentity('bob', 'ntnu')]);
  platform = await createPlatformIdentity();
});

const IDS = ['dataset-a0', 'dataset-b1', 'dataset-c2'];
const MAX_TTL = 600;

type Op =
  | { kind: 'register' | 'update' | 'delete' | 'release'; who: number; ds: number }
  | { kind: 'take'; who: number; ds: number; ttl: number }
  | { kind: 'race'; who: number; other: number; ds: number }
  | { kind: 'expire'; who: number }
  | { kind: 'advance'; seconds: number };

const who = fc.integer({ min: 0, max: 2 });
const ds = fc.integer({ min: 0, max: IDS.length - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom('register' as const, 'update' as const, 'delete' as const, 'release' as const), who, ds }),
  // Few distinct lengths, so that clock steps land exactly on expiry times often.
  fc.record({ kind: fc.constant('take' as const), who, ds, ttl: fc.constantFrom(0, 1, 30, 60, 120, MAX_TTL, MAX_TTL + 1) }),
  fc.record({ kind: fc.constant('race' as const), who, other: who, ds }),
  fc.record({ kind: fc.constant('expire' as const), who }),
  fc.record({ kind: fc.constant('advance' as const), seconds: fc.constantFrom(1, 29, 30, 59, 60, 90, 600) }),
);

interface ModelDataset {
  ownerMsp: string;
  deleted: boolean;
  lease?: { mspId: string; user: string; expiresAt: number };
  changes: number;
}

class Model {
  readonly datasets = new Map<string, ModelDataset>();
  now = 0;
  activeLease(d: ModelDataset) {
    return d.lease !== undefined && d.lease.expiresAt > this.now ? d.lease : undefined;
  }
  /** The outcome code the contract must return for a write by `p` (undefined = success). */
  liveOrError(id: string): ModelDataset | string {
    const d = this.datasets.get(id);
    if (d === undefined) return 'not_found';
    if (d.deleted) return 'gone';
    return d;
  }
}

const codeOf = (o: Outcome): string => (o.status >= 400 ? errorOf(o).code : o.validation === 'VALID' ? 'ok' : String(o.validation));

async function step(h: LedgerHarness, m: Model, o: Op): Promise<void> {
  if (o.kind === 'advance') {
    h.advance(o.seconds);
    m.now += o.seconds;
    return;
  }
  const p = people[o.who];
  if (o.kind === 'expire') {
    assert.equal(codeOf(await h.submit(p, 'ExpireLeases')), 'forbidden', 'only the platform expires leases');
    const out = await h.submit(platform, 'ExpireLeases');
    assert.equal(codeOf(out), 'ok');
    const expired = (JSON.parse(out.payload.toString()) as { datasetId: string }[]).map((l) => l.datasetId).sort();
    const expected = [...m.datasets]
      .filter(([, d]) => d.lease !== undefined && d.lease.expiresAt <= m.now)
      .map(([id]) => id)
      .sort();
    assert.deepEqual(expired, expected);
    for (const id of expected) {
      const d = m.datasets.get(id)!;
      d.lease = undefined;
      d.changes++;
    }
    return;
  }
  const id = IDS[o.ds];
  const target = m.liveOrError(id);
  switch (o.kind) {
    case 'register': {
      const out = await h.submit(p, 'RegisterDataset', newDataset(id, { policy: { leaseTtlSeconds: 60, maxLeaseTtlSeconds: MAX_TTL } }));
      if (m.datasets.has(id)) return assert.equal(codeOf(out), 'conflict');
      assert.equal(codeOf(out), 'ok');
      m.datasets.set(id, { ownerMsp: p.mspId, deleted: false, changes: 1 });
      return;
    }
    case 'update':
    case 'delete': {
      const out =
        o.kind === 'update'
          ? await h.submit(p, 'UpdateDataset', id, JSON.stringify({ description: `by ${p.user} at ${m.now}` }))
          : await h.submit(p, 'DeleteDataset', id);
      if (typeof target === 'string') return assert.equal(codeOf(out), target);
      if (target.ownerMsp !== p.mspId) return assert.equal(codeOf(out), 'forbidden');
      assert.equal(codeOf(out), 'ok');
      target.changes++;
      if (o.kind === 'delete') {
        target.deleted = true;
        target.lease = undefined;
      }
      return;
    }
    case 'take': {
      const out = await h.submit(p, 'TakeLease', id, String(o.ttl));
      if (typeof target === 'string') return assert.equal(codeOf(out), target);
      if (m.activeLease(target)) return assert.equal(codeOf(out), 'lease_held');
      if (o.ttl > MAX_TTL) return assert.equal(codeOf(out), 'validation_failed');
      assert.equal(codeOf(out), 'ok');
      target.lease = { mspId: p.mspId, user: p.user, expiresAt: m.now + (o.ttl === 0 ? 60 : o.ttl) };
      target.changes++;
      return;
    }
    case 'release': {
      const out = await h.submit(p, 'ReleaseLease', id);
      if (typeof target === 'string') return assert.equal(codeOf(out), target);
      const lease = m.activeLease(target);
      if (lease === undefined) return assert.equal(codeOf(out), 'not_found');
      const holder = lease.mspId === p.mspId && lease.user === p.user;
      if (!holder && target.ownerMsp !== p.mspId) return assert.equal(codeOf(out), 'forbidden');
      assert.equal(codeOf(out), 'ok');
      target.lease = undefined;
      target.changes++;
      return;
    }
    case 'race': {
      const snapshot = h.ledger.snapshot();
      const q = people[o.other];
      const [a, b] = await Promise.all([h.simulate(p, 'TakeLease', [id, '0'], snapshot), h.simulate(q, 'TakeLease', [id, '0'], snapshot)]);
      if (typeof target === 'string' || m.activeLease(target)) {
        assert.equal(a.status, 500);
        assert.equal(b.status, 500);
        return;
      }
      const codes = h.ledger.commitBlock([
        { txId: a.txId, timestamp: h.now, rwset: a.rwset },
        { txId: b.txId, timestamp: h.now, rwset: b.rwset },
      ]);
      assert.deepEqual(codes, ['VALID', 'MVCC_READ_CONFLICT'], 'exactly one of two racing takes commits');
      target.lease = { mspId: p.mspId, user: p.user, expiresAt: m.now + 60 };
      target.changes++;
      return;
    }
  }
}

async function checkState(h: LedgerHarness, m: Model): Promise<void> {
  const reader = people[2];
  for (const id of IDS) {
    const d = m.datasets.get(id);
    const out = await h.evaluate(reader, 'ReadDataset', id);
    if (d === undefined) {
      assert.equal(errorOf(out).code, 'not_found');
      continue;
    }
    const record = JSON.parse(out.payload.toString()) as DatasetRecord;
    assert.equal(record.owner.mspId, d.ownerMsp, 'ownership never moves');
    assert.equal(record.deletedAt !== undefined, d.deleted);
    const lease = m.activeLease(d);
    assert.deepEqual(record.lease && { mspId: record.lease.holder.mspId, user: record.lease.holder.user }, lease && { mspId: lease.mspId, user: lease.user });

    const history = await h.query<HistoryEntry[]>(reader, 'DatasetHistory', id);
    assert.equal(history.length, d.changes, `history of ${id} has one entry per committed change`);
    for (const e of history) {
      if (['registered', 'updated', 'deleted'].includes(e.action)) assert.equal(e.by.mspId, d.ownerMsp, 'only owners change datasets');
    }
  }
}

test('random operations by three identities keep the lease and ownership invariants', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
      const h = new LedgerHarness();
      const m = new Model();
      for (const o of ops) await step(h, m, o);
      await checkState(h, m);
    }),
    { seed: 20260101, numRuns: 400 },
  );
});
