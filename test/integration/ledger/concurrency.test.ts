import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { FabricLedger } from '../../../src/adapters/ledger/fabricLedger';
import type { MessageSigner } from '../../../src/adapters/ledger/ecdsa';
import type { IdentityResolver } from '../../../src/adapters/ledger/identities';
import type { LeaseRecord } from '../../../src/core/model';
import { issuingIdentities } from '../../../src/ledger-peer/issuingIdentities';
import { LedgerError, LedgerCommitStatusError } from '../../../src/adapters/ledger/errors';
import { startPeerFixture, newDataset, type PeerFixture } from './peerFixture';

let f: PeerFixture;
before(async () => {
  f = await startPeerFixture();
});
after(async () => {
  await f.close();
});

async function race(ledger: FabricLedger, datasetId: string) {
  const takers = Array.from({ length: 50 }, (_, i) => ledger.as({ org: i % 2 === 0 ? 'uio' : 'uib', user: `user${i}` }));
  // Identities issued and connections up first, so the takes start together.
  await Promise.all(takers.map((s) => s.getLease(datasetId)));
  return Promise.allSettled(takers.map((s) => s.takeLease(datasetId, 60)));
}

test('50 concurrent lease takes on one dataset: exactly one commits, the others get typed errors', async () => {
  const input = newDataset();
  await f.ledger.as({ org: 'uis', user: 'alice' }).registerDataset(input);
  const results = await race(f.ledger, input.id);
  const won = results.filter((r) => r.status === 'fulfilled');
  assert.equal(won.length, 1);
  for (const r of results) {
    if (r.status === 'fulfilled') continue;
    assert.ok(r.reason instanceof LedgerError, String(r.reason));
    // Re-endorsed after an MVCC conflict, the chaincode sees the winner's lease.
    assert.ok(r.reason.code === 'lease_held' || r.reason.code === 'conflict', r.reason.code);
  }
  const lease = await f.ledger.as({ org: 'uis', user: 'alice' }).getLease(input.id);
  assert.deepEqual(lease, won[0]!.value);
});

test('without retries, a take endorsed before a competing take committed fails with an MVCC conflict', async () => {
  // Deterministic, not a race: the loser's transaction is signed (after its endorsement, before
  // its submission) only once the winner's take has committed, so the lease its endorsement
  // read as free is no longer free when its block is validated.
  const base = issuingIdentities(f.peer.mspDir);
  let beforeLoserSubmits: (() => Promise<unknown>) | undefined;
  const identities: IdentityResolver = async (caller) => {
    const id = await base(caller);
    if (caller.user !== 'loser') return id;
    let signatures = 0;
    // fabric-gateway signs the proposal, then the endorsed transaction, then status requests.
    const signer: MessageSigner = async (message) => {
      signatures += 1;
      if (signatures === 2) await beforeLoserSubmits?.();
      return id.signer(message);
    };
    return { ...id, signer };
  };
  const ledger = new FabricLedger({
    endpoint: f.peer.endpoint,
    channel: f.peer.channel,
    chaincode: 'ledgerflow',
    identities,
    serviceCaller: { org: 'uis', user: 'auditor' },
    mvccRetries: 0,
  });
  try {
    const input = newDataset();
    await ledger.as({ org: 'uis', user: 'alice' }).registerDataset(input);
    let won: LeaseRecord | undefined;
    beforeLoserSubmits = async () => {
      won = await ledger.as({ org: 'uib', user: 'winner' }).takeLease(input.id, 60);
    };
    await assert.rejects(ledger.as({ org: 'uio', user: 'loser' }).takeLease(input.id, 60), (err: unknown) => {
      assert.ok(err instanceof LedgerCommitStatusError, String(err));
      assert.equal(err.code, 'conflict');
      assert.equal(err.validationCode, 11); // MVCC_READ_CONFLICT
      assert.match(err.transactionId ?? '', /^[0-9a-f]{64}$/);
      return true;
    });
    assert.equal(won?.holder.user, 'winner');
    assert.deepEqual(await ledger.as({ org: 'uis', user: 'alice' }).getLease(input.id), won);
  } finally {
    await ledger.close();
  }
});
