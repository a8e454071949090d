import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { checkpointers } from '@hyperledger/fabric-gateway';
import { ledgerFile } from '../../../src/ledger-peer/peer';
import { verifyLedger } from '../../../src/ledger-peer/verify';
import { createAsset, json, newAssetId, startConformancePeer, take, text } from './support';

/**
 * Derived data answers from the blocks, and verify covers every derived table: a chaincode
 * event served to a client is the one its block holds, whatever the events table says, and an
 * altered events, history or tx index row makes `verify` fail, naming it.
 */

test('chaincode events are served from the blocks: an altered events row changes nothing a client sees, and verify names it', async () => {
  const f = await startConformancePeer();
  try {
    const client = await f.client('org1', 'appUser');
    const id = newAssetId();
    const created = await createAsset(client, id, 'Tomoko');
    await client.assets.submitTransaction('TransferAsset', id, 'Max');
    assert.equal(verifyLedger(f.dataDir).ok, true);

    // Rewrite the CreateAsset event's payload and name in SQLite, leaving the block as it is.
    const db = new Database(ledgerFile(f.dataDir));
    const changed = db
      .prepare("UPDATE events SET payload = ?, name = 'Forged' WHERE tx_id = ?")
      .run(Buffer.from(JSON.stringify({ ID: id, Owner: 'Mallory' })), created.transactionId);
    db.close();
    assert.equal(changed.changes, 1);

    const checkpointer = checkpointers.inMemory();
    const events = await take(await client.network.getChaincodeEvents('basic', { startBlock: created.blockNumber, checkpoint: checkpointer }), 2);
    assert.deepEqual(
      events.map((e) => [e.eventName, json<{ Owner: string }>(e.payload).Owner]),
      [
        ['CreateAsset', 'Tomoko'],
        ['TransferAsset', 'Max'],
      ],
    );
    assert.equal(events[0]!.transactionId, created.transactionId);
    // Resuming after the first event (checkpoint) serves the second one only.
    await checkpointer.checkpointChaincodeEvent(events[0]!);
    const resumed = await take(await client.network.getChaincodeEvents('basic', { checkpoint: checkpointer }), 1);
    assert.equal(resumed[0]!.eventName, 'TransferAsset');

    const result = verifyLedger(f.dataDir);
    assert.equal(result.ok, false);
    assert.equal(result.badBlock, Number(created.blockNumber));
    assert.match(
      result.problem ?? '',
      new RegExp(`events row at block ${created.blockNumber} transaction \\d+: tx id, chaincode, name or payload differs from the block`),
    );
  } finally {
    await f.close();
  }
});

test('a deleted events row, an altered history row and an altered tx index row each fail verify, naming what is wrong', async () => {
  const f = await startConformancePeer();
  try {
    const client = await f.client('org1', 'appUser');
    const id = newAssetId();
    const created = await createAsset(client, id);
    await client.assets.submitTransaction('UpdateAsset', id, 'red', '9', 'Tomoko', '900');
    const tamper = (sql: string, ...params: unknown[]) => {
      const db = new Database(ledgerFile(f.dataDir));
      try {
        return db.prepare(sql).run(...params).changes;
      } finally {
        db.close();
      }
    };
    assert.equal(verifyLedger(f.dataDir).ok, true);

    // A deleted event row.
    const saved = (() => {
      const db = new Database(ledgerFile(f.dataDir), { readonly: true });
      try {
        return db.prepare<[string], Record<string, unknown>>('SELECT * FROM events WHERE tx_id = ?').get(created.transactionId)!;
      } finally {
        db.close();
      }
    })();
    assert.equal(tamper('DELETE FROM events WHERE tx_id = ?', created.transactionId), 1);
    let result = verifyLedger(f.dataDir);
    assert.equal(result.ok, false);
    assert.match(result.problem ?? '', /events table is missing 1 events of this block/);
    assert.equal(result.badBlock, Number(created.blockNumber));
    tamper(
      'INSERT INTO events (block_num, tx_num, tx_id, chaincode, name, payload) VALUES (?, ?, ?, ?, ?, ?)',
      saved['block_num'],
      saved['tx_num'],
      saved['tx_id'],
      saved['chaincode'],
      saved['name'],
      saved['payload'],
    );
    assert.equal(verifyLedger(f.dataDir).ok, true);

    // A history row that says the key was deleted by the transaction that created it.
    assert.equal(tamper('UPDATE history SET is_delete = 1 WHERE tx_id = ?', created.transactionId), 1);
    result = verifyLedger(f.dataDir);
    assert.equal(result.ok, false);
    assert.match(
      result.problem ?? '',
      new RegExp(`history row basic/"${id}" at block ${created.blockNumber} transaction \\d+: a delete, the block writes a value`),
    );
    tamper('UPDATE history SET is_delete = 0 WHERE tx_id = ?', created.transactionId);

    // A tx index row with another validation code.
    assert.equal(tamper('UPDATE txs SET code = 11 WHERE tx_id = ?', created.transactionId), 1);
    result = verifyLedger(f.dataDir);
    assert.equal(result.ok, false);
    assert.match(result.problem ?? '', new RegExp(`transaction index entry for ${created.transactionId} does not match its place in the chain`));
    tamper('UPDATE txs SET code = 0 WHERE tx_id = ?', created.transactionId);
    assert.equal(verifyLedger(f.dataDir).ok, true);
    // The key history a client reads still comes from the blocks' writes.
    const history = json<unknown[]>(await client.assets.evaluateTransaction('GetAssetHistory', id));
    assert.equal(history.length, 2);
    assert.equal(text(await client.assets.evaluateTransaction('AssetExists', id)), 'true');
  } finally {
    await f.close();
  }
});
