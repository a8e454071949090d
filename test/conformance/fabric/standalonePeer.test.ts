import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { connect, hash } from '@hyperledger/fabric-gateway';
import { newEcdsaSigner } from '../../../src/adapters/ledger/ecdsa';
import { verifyLedger } from '../../../src/ledger-peer/verify';
import { assetPackageDir, CHANNEL, json, newAssetId } from './support';

/**
 * `ledgerflow ledger peer --chaincode <package dir>`: a user's own chaincode package served by
 * the standalone peer beside the ledgerflow contract, reached by a fabric-gateway client with
 * an identity from `ledgerflow ledger identity`, and `ledgerflow ledger verify` over what it
 * committed.
 */

const repoRoot = resolve(__dirname, '..', '..', '..', '..');
const cli = join(repoRoot, 'bin', 'ledgerflow.js');

test('ledgerflow ledger peer --chaincode serves a chaincode package under its package name; ledger verify checks the ledger', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledgerflow-standalone-peer-'));
  const child = spawn(process.execPath, [cli, 'ledger', 'peer', '--data-dir', dataDir, '--port', '0', '--org', 'org1', '--chaincode', assetPackageDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  try {
    let started: { endpoint: string; mspDir: string; chaincodes: string[] } | undefined;
    for await (const line of createInterface({ input: child.stdout })) {
      if (line.startsWith('{"endpoint"')) {
        started = JSON.parse(line) as typeof started;
        break;
      }
    }
    assert.ok(started !== undefined, `the peer did not start: ${stderr}`);
    assert.deepEqual(started.chaincodes, ['ledgerflow', 'asset-transfer']);

    // The application's identity, as a user gets one: `ledgerflow ledger identity`.
    const issued = spawnSync(process.execPath, [cli, 'ledger', 'identity', '--data-dir', dataDir, '--org', 'org1', '--user', 'appUser', '--json'], {
      encoding: 'utf8',
    });
    assert.equal(issued.status, 0, issued.stderr);
    const identity = JSON.parse(issued.stdout) as { mspId: string; certificate: string; privateKey: string };
    assert.equal(identity.mspId, 'Org1MSP');
    assert.ok(identity.certificate.startsWith(started.mspDir));
    const client = new grpc.Client(started.endpoint, grpc.credentials.createInsecure());
    const gateway = connect({
      client,
      identity: { mspId: identity.mspId, credentials: readFileSync(identity.certificate) },
      signer: newEcdsaSigner(readFileSync(identity.privateKey, 'utf8')),
      hash: hash.none,
    });
    try {
      const assets = gateway.getNetwork(CHANNEL).getContract('asset-transfer');
      const id = newAssetId();
      await assets.submitTransaction('CreateAsset', id, 'green', '3', 'Ana', '10');
      assert.equal(json<{ Owner: string }>(await assets.evaluateTransaction('ReadAsset', id)).Owner, 'Ana');
    } finally {
      gateway.close();
      client.close();
    }
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, stderr);

    const verify = spawn(process.execPath, [cli, 'ledger', 'verify', '--data-dir', dataDir, '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    verify.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const [verifyCode] = (await once(verify, 'exit')) as [number | null];
    assert.equal(verifyCode, 0, out);
    assert.equal((JSON.parse(out) as { ok: boolean }).ok, true);
    assert.equal(verifyLedger(dataDir).transactions >= 1, true);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a directory that is not a chaincode package is refused with the reason', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledgerflow-standalone-peer-'));
  try {
    const child = spawn(process.execPath, [cli, 'ledger', 'peer', '--data-dir', dataDir, '--port', '0', '--chaincode', dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.notEqual(code, 0);
    assert.match(stderr, /is not a chaincode package: package\.json/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
