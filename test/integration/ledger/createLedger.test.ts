import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSettings } from '../../../src/config/settings';
import { createLedger } from '../../../src/app/ledger';
import { LedgerflowError } from '../../../src/core/errors';
import { getOrIssueIdentity } from '../../../src/ledger-peer/localCa';
import { startEmbeddedPeerThread } from '../../../src/ledger-peer/peerThread';
import { newDataset, silent } from './peerFixture';

test("createLedger runs the embedded peer on a thread; its ledger outlives the process's ledger", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledgerflow-app-ledger-'));
  const settings = parseSettings({ LEDGERFLOW_DATA_DIR: dataDir, LEDGER_ORGS: 'uio', LOG_LEVEL: 'silent' });
  try {
    const input = newDataset();
    const first = await createLedger(settings, silent);
    await first.as({ org: 'uis', user: 'alice' }).registerDataset(input);
    await first.close();
    const again = await createLedger(settings, silent);
    try {
      assert.equal((await again.as({ org: 'uio', user: 'bob' }).getDataset(input.id))?.owner.user, 'alice');
    } finally {
      await again.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  await assert.rejects(createLedger(parseSettings({ LEDGER: 'fabric' }), silent), /FABRIC_PEER_ENDPOINT/);
  // A real network's identities are its CAs' certificates: the local CA never stands in for them.
  await assert.rejects(createLedger(parseSettings({ LEDGER: 'fabric', FABRIC_PEER_ENDPOINT: '127.0.0.1:1' }), silent), /FABRIC_IDENTITY_DIR/);
});

test('hosts of two organizations share one standalone peer by endpoint and provisioned identities', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledgerflow-shared-'));
  const peer = await startEmbeddedPeerThread({ dataDir, port: 0, orgs: ['uis', 'uio'], logLevel: 'silent' });
  try {
    // The ledger belongs to one peer at a time; the thread reports why another cannot start.
    await assert.rejects(startEmbeddedPeerThread({ dataDir, port: 0, logLevel: 'silent' }), /in use by another peer/);
    await getOrIssueIdentity(peer.mspDir, 'uis', 'alice');
    await getOrIssueIdentity(peer.mspDir, 'uio', 'bob');
    const hostSettings = (name: string) =>
      parseSettings({ LEDGERFLOW_DATA_DIR: join(dataDir, name), FABRIC_PEER_ENDPOINT: peer.endpoint, FABRIC_IDENTITY_DIR: peer.mspDir, LOG_LEVEL: 'silent' });
    const uisHost = await createLedger(hostSettings('uis-host'), silent);
    const uioHost = await createLedger(hostSettings('uio-host'), silent);
    try {
      const input = newDataset();
      await uisHost.as({ org: 'uis', user: 'alice' }).registerDataset(input);
      const lease = await uioHost.as({ org: 'uio', user: 'bob' }).takeLease(input.id, 60);
      assert.deepEqual(await uisHost.as({ org: 'uis', user: 'alice' }).getLease(input.id), lease);
      // Nothing is issued from a provisioned identity directory.
      await assert.rejects(uioHost.as({ org: 'uio', user: 'carol' }).getDataset(input.id), (err) => err instanceof LedgerflowError && err.code === 'forbidden');
    } finally {
      await uisHost.close();
      await uioHost.close();
    }
  } finally {
    await peer.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
