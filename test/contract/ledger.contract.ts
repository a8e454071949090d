import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { LedgerflowError } from '../../src/core/errors';
import type { Caller } from '../../src/core/model';
import type { Ledger, NewDataset } from '../../src/ports/ledger';

/**
 * The lease and ownership rules every Ledger must keep, as the chaincode keeps them: run
 * against FabricLedger over the embedded peer and against the in-memory port the use-case
 * tests use, so the fake cannot drift from the chaincode (ledger.test.ts).
 */
export interface LedgerSubject {
  ledger: Ledger;
  close(): Promise<void>;
}

const alice: Caller = { user: 'alice', org: 'uis' }; // owner
const anna: Caller = { user: 'anna', org: 'uis' }; // owner's colleague
const bob: Caller = { user: 'bob', org: 'uio' }; // lessee
const bert: Caller = { user: 'bert', org: 'uio' }; // lessee's colleague
const carol: Caller = { user: 'carol', org: 'uib' }; // stranger

const fails = (code: string) => (err: unknown) => err instanceof LedgerflowError && err.code === code;

function newDataset(): NewDataset {
  return {
    id: randomBytes(16).toString('hex'),
    name: 'survey',
    description: 'test data',
    policy: { leaseTtlSeconds: 60, maxLeaseTtlSeconds: 3600 },
    storageKind: 'local',
    sealedLocation: 'c2VhbGVk',
  };
}

export function ledgerContract(label: string, open: () => Promise<LedgerSubject>): void {
  test(`${label}: the owner is the submitter's organization; only it may update or delete`, async () => {
    const s = await open();
    try {
      const input = newDataset();
      const d = await s.ledger.as(alice).registerDataset(input);
      assert.deepEqual([d.owner.user, d.owner.org], ['alice', 'uis']);
      await assert.rejects(s.ledger.as(alice).registerDataset(input), fails('conflict'));
      await assert.rejects(s.ledger.as(bob).updateDataset(input.id, { name: 'mine' }), fails('forbidden'));
      assert.equal((await s.ledger.as(anna).updateDataset(input.id, { name: 'renamed' })).name, 'renamed');
      await assert.rejects(s.ledger.as(carol).deleteDataset(input.id), fails('forbidden'));
      assert.equal(await s.ledger.as(carol).getDataset(randomBytes(16).toString('hex')), undefined);
    } finally {
      await s.close();
    }
  });

  test(`${label}: content versions: the owner organization adds the next one only`, async () => {
    const s = await open();
    try {
      const input = newDataset();
      assert.equal((await s.ledger.as(alice).registerDataset(input)).version, 1);
      const hash = 'a'.repeat(64);
      await assert.rejects(s.ledger.as(bob).updateDatasetContent(input.id, { version: 2, contentHash: hash }), fails('forbidden'));
      await assert.rejects(s.ledger.as(alice).updateDatasetContent(input.id, { version: 3, contentHash: hash }), fails('conflict'));
      const v2 = await s.ledger.as(anna).updateDatasetContent(input.id, { version: 2, contentHash: hash });
      assert.deepEqual([v2.version, v2.contentHash, v2.owner.user], [2, hash, 'alice']);
      assert.equal((await s.ledger.as(carol).getDataset(input.id))?.version, 2);
      await assert.rejects(s.ledger.as(alice).updateDatasetContent(input.id, { version: 2, contentHash: hash }), fails('conflict'));
    } finally {
      await s.close();
    }
  });

  test(`${label}: one lease holder at a time; release by the holder or the owner only`, async () => {
    const s = await open();
    try {
      const { id } = await s.ledger.as(alice).registerDataset(newDataset());
      await assert.rejects(s.ledger.as(bob).takeLease(id, 7200), fails('validation_failed')); // over maxLeaseTtlSeconds
      const lease = await s.ledger.as(bob).takeLease(id, 120);
      assert.deepEqual([lease.holder.user, lease.holder.org], ['bob', 'uio']);
      assert.equal((await s.ledger.as(carol).getLease(id))?.holder.user, 'bob');
      await assert.rejects(s.ledger.as(carol).takeLease(id, 60), (err: unknown) => {
        assert.ok(fails('lease_held')(err));
        const data = (err as LedgerflowError).data as { holder: Caller; expiresAt: string };
        assert.deepEqual([data.holder.user, data.holder.org, data.expiresAt], ['bob', 'uio', lease.expiresAt]);
        return true;
      });
      await assert.rejects(s.ledger.as(carol).releaseLease(id), fails('forbidden'));
      await assert.rejects(s.ledger.as(bert).releaseLease(id), fails('forbidden')); // the holder is a user, not an organization
      await s.ledger.as(bob).releaseLease(id);
      assert.equal(await s.ledger.as(bob).getLease(id), undefined);
      await assert.rejects(s.ledger.as(bob).releaseLease(id), fails('not_found'));
      await s.ledger.as(carol).takeLease(id, 60);
      await s.ledger.as(anna).releaseLease(id); // the owner's organization
      assert.deepEqual(
        (await s.ledger.as(alice).datasetHistory(id)).map((h) => h.action),
        ['registered', 'leased', 'released', 'leased', 'released'],
      );
    } finally {
      await s.close();
    }
  });

  test(`${label}: a deleted dataset is gone: no lease, no update, its lease ends with it`, async () => {
    const s = await open();
    try {
      const { id } = await s.ledger.as(alice).registerDataset(newDataset());
      await s.ledger.as(bob).takeLease(id, 60);
      const tombstone = await s.ledger.as(alice).deleteDataset(id);
      assert.ok(tombstone.deletedAt !== undefined);
      assert.equal(tombstone.sealedLocation, '');
      assert.equal(await s.ledger.as(bob).getLease(id), undefined);
      await assert.rejects(s.ledger.as(carol).takeLease(id, 60), fails('gone'));
      await assert.rejects(s.ledger.as(alice).updateDataset(id, { name: 'again' }), fails('gone'));
      await assert.rejects(s.ledger.as(carol).takeLease(randomBytes(16).toString('hex'), 60), fails('not_found'));
    } finally {
      await s.close();
    }
  });
}
