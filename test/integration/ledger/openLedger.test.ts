import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSettings } from '../../../src/config/settings';
import { openLedger } from '../../../src/adapters/ledger/open';
import { LedgerflowError } from '../../../src/core/errors';
import { getOrIssueIdentity } from '../../../src/ledger-peer/localCa';
import { newDataset } from './peerFixture';

test('openLedger starts the embedded peer from settings, and a second host shares it by endpoint', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledgerflow-open-'));
  const first = await openLedger(parseSettings({ LEDGERFLOW_DATA_DIR: dataDir, LEDGER_BLOCK_TIMEOUT_MS: '1', LOG_LEVEL: 'silent' }));
  try {
    assert.ok(first.peer !== undefined);
    const input = newDataset();
    await first.ledger.as({ org: 'uis', user: 'alice' }).registerDataset(input);
    // Another host (another org) pointed at the same peer and its identity directory.
    const second = await openLedger(
      parseSettings({ LEDGERFLOW_DATA_DIR: join(dataDir, 'other-host'), FABRIC_PEER_ENDPOINT: first.peer.endpoint, FABRIC_IDENTITY_DIR: first.peer.mspDir, LOG_LEVEL: 'silent' }),
    );
    try {
      assert.equal(second.peer, undefined);
      // Provisioned identities are used; nothing is issued from a plain identity directory.
      await getOrIssueIdentity(first.peer.mspDir, 'uio', 'bob');
      assert.equal((await second.ledger.as({ org: 'uio', user: 'bob' }).getDataset(input.id))?.id, input.id);
      await assert.rejects(second.ledger.as({ org: 'uio', user: 'carol' }).getDataset(input.id), (err) => err instanceof LedgerflowError && err.code === 'forbidden');
    } finally {
      await second.close();
    }
    // The thread reports a peer that cannot start, here because the ledger is taken.
    await assert.rejects(openLedger(parseSettings({ LEDGERFLOW_DATA_DIR: dataDir, LOG_LEVEL: 'silent' })), /in use by another peer/);
  } finally {
    await first.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  await assert.rejects(openLedger(parseSettings({ LEDGER: 'fabric' })), /FABRIC_PEER_ENDPOINT/);
});
