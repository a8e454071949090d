import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { ledgerFile } from '../../../src/ledger-peer/peer';
import { LedgerStore } from '../../../src/ledger-peer/store';
import { verifyLedger } from '../../../src/ledger-peer/verify';
import { startPeerFixture, newDataset, type PeerFixture } from './peerFixture';

/** What each transaction did to each key, read from world state around it (state keeps the
 * full value): the history every key must show, oldest first. */
type Written = Map<string, { ns: string; key: string; changes: (Buffer | null)[] }>;

function stateSnapshot(store: LedgerStore): Map<string, { ns: string; key: string; value: Buffer; version: string }> {
  const out = new Map<string, { ns: string; key: string; value: Buffer; version: string }>();
  for (const row of store.allState()) {
    out.set(JSON.stringify([row.ns, row.key]), { ns: row.ns, key: row.key, value: row.value, version: `${row.version.blockNum}:${row.version.txNum}` });
  }
  return out;
}

/** Runs `step` (one transaction, so one block) and records every key it wrote or deleted. */
async function recorded(store: LedgerStore, written: Written, step: () => Promise<unknown>): Promise<void> {
  const before = stateSnapshot(store);
  await step();
  const after = stateSnapshot(store);
  const entry = (id: string, ns: string, key: string) => {
    let e = written.get(id);
    if (e === undefined) written.set(id, (e = { ns, key, changes: [] }));
    return e;
  };
  for (const [id, row] of after) if (before.get(id)?.version !== row.version) entry(id, row.ns, row.key).changes.push(row.value);
  for (const [id, row] of before) if (!after.has(id)) entry(id, row.ns, row.key).changes.push(null);
}

function assertHistoryMatches(store: LedgerStore, written: Written): void {
  for (const { ns, key, changes } of written.values()) {
    const history = [...store.history(ns, key)].reverse();
    assert.equal(history.length, changes.length, `${key}: one history entry per change`);
    history.forEach((h, i) => {
      const expected = changes[i]!;
      assert.equal(h.isDelete, expected === null, `${key} #${i}`);
      assert.deepEqual(h.value, expected ?? Buffer.alloc(0), `${key} #${i}: the value as written`);
    });
  }
}

async function writeMany(f: PeerFixture, store: LedgerStore, written: Written, rounds: number): Promise<string[]> {
  const alice = f.ledger.as({ org: 'uis', user: 'alice' });
  const ids: string[] = [];
  for (let r = 0; r < rounds; r++) {
    const d = newDataset();
    ids.push(d.id);
    await recorded(store, written, () => alice.registerDataset(d));
    await recorded(store, written, () => alice.takeLease(d.id, 60 + r));
    await recorded(store, written, () => alice.releaseLease(d.id));
    await recorded(store, written, () => alice.takeLease(d.id, 120 + r));
  }
  return ids;
}

test('key history values are read from the blocks, equal to what was written, also after a restart; the index holds none', async () => {
  const f = await startPeerFixture();
  const store = new LedgerStore(ledgerFile(f.dataDir), { mustExist: true });
  try {
    const written: Written = new Map();
    const ids = await writeMany(f, store, written, 4);
    assert.ok((store.lastBlock()?.number ?? 0) >= 16, 'many blocks');
    assert.ok(
      [...written.values()].some((w) => w.changes.length >= 3 && w.changes.includes(null)),
      'keys written and deleted repeatedly',
    );
    assertHistoryMatches(store, written);

    await f.restart();
    await writeMany(f, store, written, 1);
    assertHistoryMatches(store, written);

    const rows = store.db.prepare<[], { total: number; valued: number }>('SELECT count(*) AS total, count(value) AS valued FROM history').get()!;
    assert.ok(rows.total > 20);
    assert.equal(rows.valued, 0, 'new history rows carry no value');

    // The chaincode reads the values through GetHistoryForKey (DatasetHistory parses each one).
    const history = await f.ledger.as({ org: 'uis', user: 'alice' }).datasetHistory(ids[0]!);
    assert.deepEqual(
      history.map((e) => e.action),
      ['registered', 'leased', 'released', 'leased'],
    );
  } finally {
    store.close();
    await f.close();
  }
});

test('rows of a ledger written before (value stored) are served as stored, and verify checks them', async () => {
  const f = await startPeerFixture();
  const store = new LedgerStore(ledgerFile(f.dataDir), { mustExist: true });
  const written: Written = new Map();
  try {
    await writeMany(f, store, written, 2);
  } finally {
    store.close();
    await f.ledger.close();
    await f.peer.stop();
  }
  try {
    const db = new Database(ledgerFile(f.dataDir));
    // What an old ledger holds: a copy of every written value in its history row.
    const put = db.prepare('UPDATE history SET value = ? WHERE ns = ? AND key = ? AND block_num = ? AND tx_num = ?');
    for (const { ns, key, changes } of written.values()) {
      const rows = db
        .prepare<[string, Buffer], { block_num: number; tx_num: number }>(
          'SELECT block_num, tx_num FROM history WHERE ns = ? AND key = ? ORDER BY block_num, tx_num',
        )
        .all(ns, Buffer.from(key));
      rows.forEach((r, i) => {
        if (changes[i] !== null) put.run(changes[i], ns, Buffer.from(key), r.block_num, r.tx_num);
      });
    }
    db.close();
    const old = new LedgerStore(ledgerFile(f.dataDir), { mustExist: true });
    try {
      assertHistoryMatches(old, written);
    } finally {
      old.close();
    }
    const sound = verifyLedger(f.dataDir);
    assert.equal(sound.ok, true, sound.problem);

    const tamper = new Database(ledgerFile(f.dataDir));
    tamper
      .prepare(
        "UPDATE history SET value = CAST('{}' AS BLOB) WHERE (ns, key, block_num, tx_num) = (SELECT ns, key, block_num, tx_num FROM history WHERE value IS NOT NULL LIMIT 1)",
      )
      .run();
    tamper.close();
    const result = verifyLedger(f.dataDir);
    assert.equal(result.ok, false);
    assert.match(result.problem ?? '', /stored value differs from the block/);
  } finally {
    await f.close().catch(() => undefined);
  }
});

test('verify fails when a history row points at a transaction that does not write its key; the time guard still reads no value', async () => {
  const f = await startPeerFixture();
  const alice = f.ledger.as({ org: 'uis', user: 'alice' });
  const a = newDataset();
  const b = newDataset();
  await alice.registerDataset(a);
  await alice.registerDataset(b);
  await alice.takeLease(a.id, 60);
  await f.ledger.close();
  await f.peer.stop();
  try {
    const db = new Database(ledgerFile(f.dataDir));
    // B's registration (its own block) is moved onto A's (the block before), which never wrote B's keys.
    const leaseBlock = db.prepare<[], { n: number }>('SELECT max(number) AS n FROM blocks').get()!.n;
    const moved = db.prepare('UPDATE history SET block_num = ?, tx_num = 0 WHERE block_num = ?').run(leaseBlock - 2, leaseBlock - 1);
    assert.ok(moved.changes > 0);
    db.close();
    const result = verifyLedger(f.dataDir);
    assert.equal(result.ok, false);
    assert.match(result.problem ?? '', /does not write the key/);

    const store = new LedgerStore(ledgerFile(f.dataDir), { mustExist: true });
    try {
      const keys = store.db
        .prepare<[number], { ns: string; key: Buffer; is_delete: number }>('SELECT ns, key, is_delete FROM history WHERE block_num = ? AND is_delete = 0')
        .all(leaseBlock - 2);
      const misplaced = keys.find((k) => k.key.toString('utf8').includes(b.id));
      assert.ok(misplaced !== undefined);
      const [newest] = store.history(misplaced.ns, misplaced.key.toString('utf8'));
      assert.ok(newest !== undefined);
      assert.equal(typeof newest.txId, 'string', 'tx id and time are served from the index');
      assert.throws(() => newest.value, /does not write/);
    } finally {
      store.close();
    }

    // The chaincode's time guard reads B's newest audit entry (its time only) and works on.
    await f.restart();
    await f.ledger.as({ org: 'uis', user: 'alice' }).takeLease(b.id, 60);
    await assert.rejects(f.ledger.as({ org: 'uis', user: 'alice' }).datasetHistory(b.id));
  } finally {
    await f.close().catch(() => undefined);
  }
});
