import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { FabricLedger } from '../../../src/adapters/ledger/fabricLedger';
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

test('without retries, the losers of the same block fail with an MVCC conflict', async () => {
  // Endorsements race ahead of the (slow) block cut, so several read the free lease.
  const ledger = new FabricLedger({
    endpoint: f.peer.endpoint,
    channel: f.peer.channel,
    chaincode: 'ledgerflow',
    identities: issuingIdentities(f.peer.mspDir),
    serviceCaller: { org: 'uis', user: 'auditor' },
    mvccRetries: 0,
  });
  try {
    const input = newDataset();
    await ledger.as({ org: 'uis', user: 'alice' }).registerDataset(input);
    const results = await race(ledger, input.id);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const conflicts = results.filter((r) => r.status === 'rejected' && r.reason instanceof LedgerCommitStatusError && r.reason.code === 'conflict');
    assert.ok(conflicts.length > 0, 'some takes were endorsed before the winner committed');
    for (const r of conflicts) {
      const err = (r as PromiseRejectedResult).reason as LedgerCommitStatusError;
      assert.equal(err.validationCode, 11); // MVCC_READ_CONFLICT
      assert.match(err.transactionId ?? '', /^[0-9a-f]{64}$/);
    }
  } finally {
    await ledger.close();
  }
});
