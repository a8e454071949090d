import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetService } from '../../../src/app/datasets/datasetService';
import { FileKeyStores } from '../../../src/adapters/keyStore/fileKeyStore';
import { LocalDatasetStorage } from '../../../src/adapters/storage/localStorage';
import { LedgerflowError } from '../../../src/core/errors';
import { unsealLocation } from '../../../src/core/crypto/seal';
import { createLogger } from '../../../src/observability/logger';
import { InMemoryLedgerPort } from './inMemoryLedgerPort';

const uis = { user: 'alice', org: 'uis' };
const uio = { user: 'bob', org: 'uio' };
const uib = { user: 'carol', org: 'uib' };
const code = (c: string) => (err: unknown) => err instanceof LedgerflowError && err.code === c;

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'lf-ds-'));
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const now = () => new Date(clock);
  const ledger = new InMemoryLedgerPort(now);
  const keyStores = await FileKeyStores.open(dir);
  const local = new LocalDatasetStorage({ dataDir: dir, adoptRoots: {} });
  const service = new DatasetService({
    ledger,
    keyStores,
    storage: () => local,
    defaultStorage: 'local',
    defaultLeaseTtlSeconds: 600,
    logger: createLogger({ level: 'silent' }),
    now,
  });
  return {
    dir,
    ledger,
    keyStores,
    service,
    advance: (s: number) => {
      clock += s * 1000;
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

test('register stores data, seals the location under the owner key, never shows it', async () => {
  const t = await setup();
  try {
    const ds = await t.service.register(uis, { name: 'n', files: { 'a.txt': 'hello' } });
    assert.match(ds.id, /^[0-9a-f]{32}$/);
    assert.deepEqual(ds.owner, uis);
    assert.deepEqual(ds.policy, { leaseTtlSeconds: 600, maxLeaseTtlSeconds: 86400, approval: 'required', results: 'release' });
    assert.equal(ds.state, 'free');
    assert.equal(JSON.stringify(ds).includes('sealed'), false);
    const record = t.ledger.datasets.get(ds.id)!;
    const key = await t.keyStores.forOrg('uis').get(`ds-${ds.id}-key`);
    assert.equal(unsealLocation(record.sealedLocation, key!, ds.id).kind, 'local');
  } finally {
    await t.close();
  }
});

test('a failed ledger write undoes storage and keys', async () => {
  const t = await setup();
  try {
    t.ledger.failRegister = true;
    await assert.rejects(t.service.register(uis, { name: 'n', files: { 'a.txt': 'x' } }), code('unavailable'));
    assert.deepEqual(await readdir(join(t.dir, 'datasets')), []);
  } finally {
    await t.close();
  }
});

test('a policy whose ttl exceeds its max is refused', async () => {
  const t = await setup();
  try {
    await assert.rejects(
      t.service.register(uis, { name: 'n', policy: { leaseTtlSeconds: 100, maxLeaseTtlSeconds: 50 } }),
      (e: unknown) => code('validation_failed')(e) && (e as LedgerflowError).details?.[0]?.path === 'policy.leaseTtlSeconds',
    );
  } finally {
    await t.close();
  }
});

test('leases: take, held, capped ttl, release, expiry; tree for owner and lessee only', async () => {
  const t = await setup();
  try {
    const ds = await t.service.register(uis, { name: 'n', policy: { maxLeaseTtlSeconds: 1000 }, files: { 'x/y.txt': 'y' } });
    await assert.rejects(t.service.takeLease(uio, ds.id, 1001), code('validation_failed'));
    await assert.rejects(t.service.tree(uio, ds.id, { limit: 10 }), code('forbidden'));
    const lease = await t.service.takeLease(uio, ds.id, undefined);
    assert.deepEqual(lease.holder, uio);
    assert.equal(lease.expiresAt, '2026-01-01T00:10:00.000Z');
    await assert.rejects(t.service.takeLease(uib, ds.id, undefined), code('lease_held'));
    assert.deepEqual(
      (await t.service.tree(uio, ds.id, { limit: 10 })).items.map((e) => e.path),
      ['x', 'x/y.txt'],
    );
    await assert.rejects(t.service.tree(uib, ds.id, { limit: 10 }), code('forbidden'));
    assert.equal((await t.service.locate(uio, ds.id)).location.kind, 'local');
    await assert.rejects(t.service.locate({ user: 'eve', org: 'uio' }, ds.id), code('forbidden'));
    const page1 = await t.service.tree(uis, ds.id, { limit: 1 });
    assert.equal(page1.items.length, 1);
    const page2 = await t.service.tree(uis, ds.id, { limit: 1, cursor: page1.nextCursor });
    assert.deepEqual(
      [...page1.items, ...page2.items].map((e) => e.path),
      ['x', 'x/y.txt'],
    );
    assert.equal(page2.nextCursor, undefined);
    await t.service.releaseLease(uio, ds.id);
    await t.service.takeLease(uib, ds.id, 60);
    t.advance(61);
    assert.equal((await t.service.get(uis, ds.id)).state, 'free');
    await assert.rejects(t.service.tree(uib, ds.id, { limit: 10 }), code('forbidden'));
    assert.deepEqual(
      (await t.service.expireLeases({ user: 'platform', org: 'uis' })).map((l) => l.holder),
      [uib],
    );
  } finally {
    await t.close();
  }
});

test('only the owner updates or deletes; delete crypto-shreds; history hides the sealed location', async () => {
  const t = await setup();
  try {
    const ds = await t.service.register(uis, { name: 'n', files: { 'a.txt': 'a' } });
    await assert.rejects(t.service.update(uio, ds.id, { name: 'stolen' }), code('forbidden'));
    await assert.rejects(t.service.delete(uio, ds.id), code('forbidden'));
    assert.equal((await t.service.update(uis, ds.id, { name: 'renamed', policy: { leaseTtlSeconds: 30 } })).name, 'renamed');
    const result = await t.service.delete(uis, ds.id);
    assert.deepEqual(result.cryptoShred, { purged: true });
    assert.equal(result.dataset.state, 'deleted');
    assert.equal(await t.keyStores.forOrg('uis').get(`ds-${ds.id}-key`), undefined);
    assert.deepEqual(await readdir(join(t.dir, 'datasets')), []);
    await assert.rejects(t.service.get(uis, ds.id), code('gone'));
    await assert.rejects(t.service.tree(uis, ds.id, { limit: 1 }), code('gone'));
    const history = await t.service.history(uib, ds.id);
    assert.deepEqual(
      history.map((h) => h.action),
      ['registered', 'updated', 'deleted'],
    );
    assert.equal(JSON.stringify(history).includes('sealedLocation'), false);
    await assert.rejects(t.service.history(uis, 'f'.repeat(32)), code('not_found'));
  } finally {
    await t.close();
  }
});

test('delete reports a refused purge instead of hiding it', async () => {
  const t = await setup();
  try {
    const refusing = {
      kind: 'keyvault' as const,
      forOrg: (org: string) => {
        const inner = t.keyStores.forOrg(org);
        return {
          get: inner.get.bind(inner),
          set: inner.set.bind(inner),
          destroy: async () => ({ purged: false, reason: 'purge protection is enabled for this vault' }),
        };
      },
    };
    const service = new DatasetService({
      ledger: t.ledger,
      keyStores: refusing,
      storage: () => new LocalDatasetStorage({ dataDir: t.dir, adoptRoots: {} }),
      defaultStorage: 'local',
      defaultLeaseTtlSeconds: 60,
      logger: createLogger({ level: 'silent' }),
    });
    const ds = await service.register(uis, { name: 'n' });
    const result = await service.delete(uis, ds.id);
    assert.deepEqual(result.cryptoShred, { purged: false, reason: 'purge protection is enabled for this vault' });
  } finally {
    await t.close();
  }
});

test('racing takes of one dataset: one transaction wins, the others are refused with its lease without a ledger call', async () => {
  const t = await setup();
  try {
    const ds = await t.service.register(uis, { name: 'n', files: { 'a.txt': 'a' } });
    let submitted = 0;
    let reads = 0;
    const as = t.ledger.as.bind(t.ledger);
    t.ledger.as = (caller) => {
      const session = as(caller);
      return {
        ...session,
        getDataset: (id) => {
          reads++;
          return session.getDataset(id);
        },
        takeLease: (id, ttl) => {
          submitted++;
          return session.takeLease(id, ttl);
        },
      };
    };
    const callers = Array.from({ length: 10 }, (_, i) => ({ user: `u${i}`, org: 'uio' }));
    const outcomes = await Promise.allSettled(callers.map((c) => t.service.takeLease(c, ds.id, 60)));
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    assert.equal(won.length, 1);
    assert.equal(submitted, 1);
    assert.equal(reads, 1);
    const holder = (won[0] as PromiseFulfilledResult<{ holder: { user: string; org: string } }>).value.holder;
    for (const o of outcomes.filter((x) => x.status === 'rejected')) {
      const err = (o as PromiseRejectedResult).reason as LedgerflowError;
      assert.equal(err.code, 'lease_held');
      assert.deepEqual({ user: (err.data?.['holder'] as { user: string }).user, org: (err.data?.['holder'] as { org: string }).org }, holder);
    }
    // Once the racers are answered, a take reads the ledger again: refused while the lease
    // runs, submitted after it ended.
    await assert.rejects(t.service.takeLease(uib, ds.id, 60), code('lease_held'));
    assert.deepEqual([reads, submitted], [2, 1]);
    t.advance(61);
    await t.service.takeLease(uib, ds.id, 60);
    assert.deepEqual([reads, submitted], [3, 2]);
  } finally {
    await t.close();
  }
});

test('a read that shows the lease held answers the takes queued before it was sent, never one that came after', async () => {
  const t = await setup();
  try {
    const ds = await t.service.register(uis, { name: 'n', files: { 'a.txt': 'a' } });
    await t.service.takeLease(uio, ds.id, 60);
    // Reads wait until the test lets each one through, so the test decides who arrived when.
    const gates: (() => void)[] = [];
    let reads = 0;
    const as = t.ledger.as.bind(t.ledger);
    t.ledger.as = (caller) => {
      const session = as(caller);
      return {
        ...session,
        getDataset: async (id) => {
          reads++;
          await new Promise<void>((open) => gates.push(open));
          return session.getDataset(id);
        },
        takeLease: () => assert.fail('a take of a held lease was submitted'),
      };
    };
    const settle = () => new Promise((r) => setImmediate(r));
    const first = t.service.takeLease(uib, ds.id, 60);
    await settle();
    assert.equal(reads, 1);
    // Arrives after the first read was sent: that read cannot answer it.
    const second = t.service.takeLease({ user: 'dave', org: 'uib' }, ds.id, 60);
    gates.shift()!();
    await assert.rejects(first, code('lease_held'));
    await settle();
    assert.equal(reads, 2);
    // Arrive while the second read is in flight, so it cannot answer them: the third reads
    // again, and its read, sent after the fourth arrived, answers the fourth too.
    const third = t.service.takeLease({ user: 'erin', org: 'uib' }, ds.id, 60);
    const fourth = t.service.takeLease({ user: 'frank', org: 'uib' }, ds.id, 60);
    gates.shift()!();
    await assert.rejects(second, code('lease_held'));
    await settle();
    assert.equal(reads, 3);
    gates.shift()!();
    await assert.rejects(third, (err: unknown) => code('lease_held')(err) && (err as LedgerflowError).data?.['holder'] !== undefined);
    await assert.rejects(fourth, code('lease_held'));
    assert.equal(reads, 3);
  } finally {
    await t.close();
  }
});
