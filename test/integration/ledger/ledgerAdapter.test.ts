import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { connect, hash } from '@hyperledger/fabric-gateway';
import { LedgerError, LedgerEndorseError } from '../../../src/adapters/ledger/errors';
import { FabricLedger } from '../../../src/adapters/ledger/fabricLedger';
import { LedgerflowError } from '../../../src/core/errors';
import { issuingIdentities } from '../../../src/ledger-peer/issuingIdentities';
import { getOrIssueIdentity } from '../../../src/ledger-peer/localCa';
import { newEcdsaSigner } from '../../../src/adapters/ledger/ecdsa';
import { startPeerFixture, newDataset, silent, type PeerFixture } from './peerFixture';
import { startEmbeddedPeer } from '../../../src/ledger-peer/peer';
import { verifyLedger } from '../../../src/ledger-peer/verify';
import { DishonestClient } from '../../adversary/dishonestClient';

let f: PeerFixture;
before(async () => {
  f = await startPeerFixture();
});
after(async () => {
  await f.close();
});

const alice = () => f.ledger.as({ org: 'uis', user: 'alice' });
const bob = () => f.ledger.as({ org: 'uio', user: 'bob' });

const hasCode = (code: string) => (err: unknown) => {
  assert.ok(err instanceof LedgerError, `expected a LedgerError, got ${String(err)}`);
  assert.equal(err.code, code);
  return true;
};

test('datasets: register, read, update, list, delete through the gateway', async () => {
  const input = newDataset();
  const registered = await alice().registerDataset(input);
  assert.equal(registered.id, input.id);
  assert.deepEqual(registered.owner, { org: 'uis', user: 'alice', mspId: 'UisMSP' });

  const read = await bob().getDataset(input.id);
  assert.equal(read?.name, input.name);
  assert.equal(await bob().getDataset('ds-does-not-exist'), undefined);

  const updated = await alice().updateDataset(input.id, { description: 'new words' });
  assert.equal(updated.description, 'new words');

  const page = await bob().listDatasets({ owner: 'uis', pageSize: 100 });
  assert.ok(page.items.some((d) => d.id === input.id));

  const deleted = await alice().deleteDataset(input.id);
  assert.ok(deleted.deletedAt !== undefined);
  await assert.rejects(alice().takeLease(input.id, 10), hasCode('gone'));
});

test("a second organization cannot update or delete the first one's dataset", async () => {
  const input = newDataset();
  await alice().registerDataset(input);
  await assert.rejects(bob().updateDataset(input.id, { name: 'mine now' }), (err) => {
    assert.ok(err instanceof LedgerEndorseError);
    assert.equal(err.code, 'forbidden');
    assert.match(err.transactionId ?? '', /^[0-9a-f]{64}$/);
    return true;
  });
  await assert.rejects(bob().deleteDataset(input.id), hasCode('forbidden'));
  assert.equal((await alice().getDataset(input.id))?.name, input.name);
});

test('leases: take, held by another (with holder and expiry), release, history', async () => {
  // Owner consent is tested in approvals.test.ts; this dataset opts out of it.
  const input = newDataset({ policy: { leaseTtlSeconds: 60, maxLeaseTtlSeconds: 3600, approval: 'none' } });
  await alice().registerDataset(input);
  const lease = await bob().takeLease(input.id, 120);
  assert.deepEqual(lease.holder, { org: 'uio', user: 'bob', mspId: 'UioMSP' });
  assert.deepEqual(await alice().getLease(input.id), lease);

  await assert.rejects(alice().takeLease(input.id, 60), (err) => {
    assert.ok(err instanceof LedgerError);
    assert.equal(err.code, 'lease_held');
    assert.deepEqual(err.data, { holder: lease.holder, expiresAt: lease.expiresAt });
    return true;
  });

  await bob().recordWorkflowLaunched({ workflowId: `wf-${input.id}`, datasetIds: [input.id], specHash: 'a'.repeat(64), filesHash: 'b'.repeat(64) });
  await bob().recordWorkflowFinished({ workflowId: `wf-${input.id}`, status: 'Succeeded', jobs: [{ name: 'job1', status: 'Succeeded', exitCode: 0 }] });
  await bob().recordWorkflowCleanedUp(`wf-${input.id}`);
  await bob().releaseLease(input.id);
  assert.equal(await alice().getLease(input.id), undefined);

  const history = await alice().datasetHistory(input.id);
  assert.deepEqual(
    history.map((h) => h.action),
    ['registered', 'leased', 'workflow-launched', 'workflow-finished', 'workflow-cleaned-up', 'released'],
  );
  assert.ok(history.every((h) => /^[0-9a-f]{64}$/.test(h.txId)));
});

test('expired leases are removed by ExpireLeases and free the dataset', async () => {
  // Lease expiry is judged by transaction time. Instead of waiting out a lease, register the
  // dataset and take a one-second lease in transactions dated 20 s back (within the
  // endorsers' clock skew), through a client that dates its own proposals: the lease is
  // over before the adapter looks at it.
  const input = newDataset({ policy: { leaseTtlSeconds: 1, maxLeaseTtlSeconds: 60 } });
  const secondsAgo = (s: number) => new Date(Date.now() - s * 1000);
  const [owner, taker] = await Promise.all([
    DishonestClient.connect(f.peer.endpoint, f.peer.mspDir, 'uis', 'alice'),
    DishonestClient.connect(f.peer.endpoint, f.peer.mspDir, 'uio', 'bob'),
  ]);
  try {
    assert.ok((await owner.submit(secondsAgo(20), 'RegisterDataset', JSON.stringify(input))).ok);
    const taken = await taker.submit(secondsAgo(19), 'TakeLease', input.id, '1');
    assert.ok(taken.ok, taken.text);
  } finally {
    owner.close();
    taker.close();
  }
  assert.equal(await alice().getLease(input.id), undefined, 'an expired lease is not in force');
  const expired = await f.ledger.as({ org: 'uis', user: 'ledgerflow' }).expireLeases();
  assert.ok(expired.some((l) => l.datasetId === input.id && l.holder.user === 'bob'));
  const again = await alice().takeLease(input.id, 1);
  assert.equal(again.holder.user, 'alice');
});

test('the plain fabric-gateway client works unchanged: evaluate, submitAsync + getStatus', async () => {
  const id = await getOrIssueIdentity(f.peer.mspDir, 'uis', 'carol');
  const client = new grpc.Client(f.peer.endpoint, grpc.credentials.createInsecure());
  // The gateway's default signer and hash (noble P-256 over a SHA-256 digest).
  const { signers } = await import('@hyperledger/fabric-gateway');
  const { createPrivateKey } = await import('node:crypto');
  const gateway = connect({
    client,
    identity: { mspId: id.mspId, credentials: Buffer.from(id.certPem) },
    signer: signers.newPrivateKeySigner(createPrivateKey(id.keyPem)),
  });
  try {
    const contract = gateway.getNetwork('ledgerflow').getContract('ledgerflow', 'ledgerflow');
    const input = newDataset();
    const submitted = await contract.submitAsync('RegisterDataset', { arguments: [JSON.stringify(input)] });
    const status = await submitted.getStatus();
    assert.equal(status.successful, true);
    assert.ok(status.blockNumber > 0n);
    const read = JSON.parse(Buffer.from(await contract.evaluateTransaction('ReadDataset', input.id)).toString()) as { owner: { user: string } };
    assert.equal(read.owner.user, 'carol');
  } finally {
    gateway.close();
    client.close();
  }
});

test('an identity from an unknown CA is refused', async () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const foreign = await getOrIssueIdentity(`${f.dataDir}/elsewhere`, 'uis', 'mallory');
  const client = new grpc.Client(f.peer.endpoint, grpc.credentials.createInsecure());
  const gateway = connect({
    client,
    identity: { mspId: 'UisMSP', credentials: Buffer.from(foreign.certPem) },
    signer: newEcdsaSigner(foreign.keyPem),
    hash: hash.none,
  });
  try {
    const contract = gateway.getNetwork('ledgerflow').getContract('ledgerflow', 'ledgerflow');
    await assert.rejects(
      contract.evaluateTransaction('ReadLease', 'ds-anything'),
      (err: Error & { code?: number }) => err.code === grpc.status.FAILED_PRECONDITION,
    );
    // A known certificate with a signature by another key is refused too.
    const known = await getOrIssueIdentity(f.peer.mspDir, 'uis', 'alice');
    const forged = connect({
      client,
      identity: { mspId: 'UisMSP', credentials: Buffer.from(known.certPem) },
      signer: newEcdsaSigner(privateKey),
      hash: hash.none,
    });
    await assert.rejects(
      forged.getNetwork('ledgerflow').getContract('ledgerflow', 'ledgerflow').evaluateTransaction('ReadLease', 'ds-anything'),
      (err: Error & { code?: number }) => err.code === grpc.status.FAILED_PRECONDITION,
    );
    forged.close();
  } finally {
    gateway.close();
    client.close();
  }
});

test("the adapter's forbidden fires on the peer's refusal as a Fabric 2.5 gateway words it (identities of a CA outside the channel)", async () => {
  const outsider = new FabricLedger({
    endpoint: f.peer.endpoint,
    channel: f.peer.channel,
    chaincode: 'ledgerflow',
    identities: issuingIdentities(`${f.dataDir}/elsewhere-msp`),
    serviceCaller: { org: 'uis', user: 'ledgerflow' },
  });
  try {
    // Evaluate (FAILED_PRECONDITION) and endorse (ABORTED), each with the endorser's detail.
    await assert.rejects(outsider.as({ org: 'uis', user: 'mallory' }).getDataset('ds-anything'), (err) => {
      assert.ok(err instanceof LedgerEndorseError, String(err));
      assert.equal(err.code, 'forbidden');
      assert.equal(err.stage, 'evaluate');
      return true;
    });
    await assert.rejects(outsider.as({ org: 'uis', user: 'mallory' }).registerDataset(newDataset()), (err) => {
      assert.ok(err instanceof LedgerEndorseError, String(err));
      assert.equal(err.code, 'forbidden');
      assert.equal(err.stage, 'endorse');
      return true;
    });
  } finally {
    await outsider.close();
  }
});

test("over TLS, the client trusts the peer's CA", async () => {
  const tls = await startPeerFixture({ tls: true });
  try {
    assert.match(tls.peer.tlsRootCert ?? '', /BEGIN CERTIFICATE/);
    const input = newDataset();
    await tls.ledger.as({ org: 'uis', user: 'alice' }).registerDataset(input);
    assert.equal((await tls.ledger.as({ org: 'uio', user: 'bob' }).getDataset(input.id))?.id, input.id);
  } finally {
    await tls.close();
  }
});

test('user names with inner spaces get identities; a wrong channel is a fault, not a missing record', async () => {
  const input = newDataset();
  const registered = await f.ledger.as({ org: 'uis', user: 'Ada Lovelace' }).registerDataset(input);
  assert.equal(registered.owner.user, 'Ada Lovelace');
  await assert.rejects(f.ledger.as({ org: 'uis', user: '../evil' }).getLease(input.id), (err) => err instanceof LedgerflowError && err.code === 'forbidden');

  const misconfigured = new FabricLedger({
    endpoint: f.peer.endpoint,
    channel: 'no-such-channel',
    chaincode: 'ledgerflow',
    identities: issuingIdentities(f.peer.mspDir),
    serviceCaller: { org: 'uis', user: 'auditor' },
  });
  try {
    await assert.rejects(misconfigured.as({ org: 'uis', user: 'alice' }).getDataset(input.id), hasCode('internal'));
  } finally {
    await misconfigured.close();
  }
});

test('one peer per ledger: a second one on the same data dir is refused; verify reads a live ledger', async () => {
  await assert.rejects(startEmbeddedPeer({ dataDir: f.dataDir, port: 0, logger: silent }), /in use by another peer/);
  await alice().registerDataset(newDataset());
  const live = verifyLedger(f.dataDir);
  assert.equal(live.ok, true, live.problem);
});

test('restart keeps datasets, leases and history', async () => {
  const input = newDataset();
  await alice().registerDataset(input);
  const lease = await bob().takeLease(input.id, 600);
  await f.restart();
  assert.equal((await alice().getDataset(input.id))?.name, input.name);
  assert.deepEqual(await alice().getLease(input.id), lease);
  assert.equal((await alice().datasetHistory(input.id)).length, 2);
  await assert.rejects(alice().takeLease(input.id, 60), hasCode('lease_held'));
});
