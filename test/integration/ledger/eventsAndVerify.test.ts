import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as grpc from '@grpc/grpc-js';
import { checkpointers, connect, hash, type ChaincodeEvent } from '@hyperledger/fabric-gateway';
import { common } from '@hyperledger/fabric-protos';
import { getOrIssueIdentity } from '../../../src/ledger-peer/localCa';
import { newEcdsaSigner } from '../../../src/adapters/ledger/ecdsa';
import { verifyLedger } from '../../../src/ledger-peer/verify';
import { ledgerFile } from '../../../src/ledger-peer/peer';
import { startPeerFixture, newDataset } from './peerFixture';

async function take<T>(iterable: AsyncIterable<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  if (n === 0) return out;
  for await (const item of iterable) {
    out.push(item);
    if (out.length === n) break;
  }
  return out;
}

test("chaincode events resume after a Checkpointer's position, also across a peer restart", async () => {
  const f = await startPeerFixture();
  try {
    const alice = f.ledger.as({ org: 'uis', user: 'alice' });
    const datasets = [newDataset(), newDataset(), newDataset()];
    for (const d of datasets) await alice.registerDataset(d);
    await alice.takeLease(datasets[0]!.id, 60);

    const id = await getOrIssueIdentity(f.peer.mspDir, 'uib', 'auditor');
    const connectAuditor = () => {
      const client = new grpc.Client(f.peer.endpoint, grpc.credentials.createInsecure());
      const gateway = connect({
        client,
        identity: { mspId: id.mspId, credentials: Buffer.from(id.certPem) },
        signer: newEcdsaSigner(id.keyPem),
        hash: hash.none,
      });
      return { network: gateway.getNetwork('ledgerflow'), close: () => (gateway.close(), client.close()) };
    };
    const checkpointer = checkpointers.inMemory();
    const first = connectAuditor();
    const seen: ChaincodeEvent[] = [];
    const events = await first.network.getChaincodeEvents('ledgerflow', { startBlock: 0n });
    for await (const event of events) {
      seen.push(event);
      await checkpointer.checkpointChaincodeEvent(event);
      if (seen.length === 2) break;
    }
    events.close();
    first.close();
    assert.deepEqual(
      seen.map((e) => e.eventName),
      ['DatasetRegistered', 'DatasetRegistered'],
    );

    await alice.takeLease(datasets[1]!.id, 60);
    await f.restart();
    await f.ledger.as({ org: 'uis', user: 'alice' }).releaseLease(datasets[0]!.id);

    const second = connectAuditor();
    try {
      const resumed = await second.network.getChaincodeEvents('ledgerflow', { checkpoint: checkpointer });
      const rest = await take(resumed, 4);
      resumed.close();
      assert.deepEqual(
        rest.map((e) => e.eventName),
        ['DatasetRegistered', 'LeaseTaken', 'LeaseTaken', 'LeaseReleased'],
      );
      const all = [...seen, ...rest];
      assert.equal(new Set(all.map((e) => e.transactionId)).size, all.length, 'no event twice');
      assert.ok(all.every((e, i) => i === 0 || e.blockNumber >= all[i - 1]!.blockNumber));
    } finally {
      second.close();
    }

    // The adapter's own events() from a block, with the JSON payload parsed.
    const fromAdapter = await take(f.ledger.events({ startBlock: 1n }), 1);
    assert.equal(fromAdapter[0]!.name, 'DatasetRegistered');
    assert.equal((fromAdapter[0]!.payload as { id: string }).id, datasets[0]!.id);
  } finally {
    await f.close();
  }
});

test('the verify command passes a sound ledger and finds a tampered block', async () => {
  const f = await startPeerFixture();
  const alice = f.ledger.as({ org: 'uis', user: 'alice' });
  const d = newDataset();
  await alice.registerDataset(d);
  await alice.takeLease(d.id, 60);
  await alice.releaseLease(d.id);
  await f.ledger.close();
  await f.peer.stop();
  try {
    const sound = verifyLedger(f.dataDir);
    assert.equal(sound.ok, true, sound.problem);
    assert.ok(sound.blocks >= 4 && sound.transactions >= 3);

    // Rewrite the value in the take-lease transaction of block 2 (a longer TTL), leaving the hashes.
    const db = new Database(ledgerFile(f.dataDir));
    const row = db.prepare<[number], { bytes: Buffer }>('SELECT bytes FROM blocks WHERE number = ?').get(2)!;
    const block = common.Block.deserializeBinary(row.bytes);
    const envelope = Buffer.from(block.getData()!.getDataList_asU8()[0]!);
    const at = envelope.indexOf('"expiresAt":"');
    assert.ok(at > 0);
    envelope.write('9', at + 14);
    block.getData()!.setDataList([envelope]);
    db.prepare('UPDATE blocks SET bytes = ? WHERE number = ?').run(Buffer.from(block.serializeBinary()), 2);
    db.close();

    const tampered = verifyLedger(f.dataDir);
    assert.equal(tampered.ok, false);
    assert.equal(tampered.badBlock, 2);
    assert.match(tampered.problem ?? '', /data hash/);

    const cli = spawnSync(process.execPath, [join(__dirname, '../../../src/ledger-peer/verify.js'), '--data-dir', f.dataDir], { encoding: 'utf8' });
    assert.equal(cli.status, 1);
    assert.equal((JSON.parse(cli.stdout) as { badBlock: number }).badBlock, 2);
  } finally {
    await f.close().catch(() => undefined);
  }
});

test('the verify command finds world state that no block wrote', async () => {
  const f = await startPeerFixture();
  await f.ledger.as({ org: 'uis', user: 'alice' }).registerDataset(newDataset());
  await f.ledger.close();
  await f.peer.stop();
  try {
    const db = new Database(ledgerFile(f.dataDir));
    db.prepare("UPDATE state SET value = CAST('{}' AS BLOB) WHERE (ns, key) = (SELECT ns, key FROM state LIMIT 1)").run();
    db.close();
    const result = verifyLedger(f.dataDir);
    assert.equal(result.ok, false);
    assert.match(result.problem ?? '', /world state/);
  } finally {
    await f.close().catch(() => undefined);
  }
});
