import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { generateKeyPairSync } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { connect, hash } from '@hyperledger/fabric-gateway';
import { gateway as gatewayProtos } from '@hyperledger/fabric-protos';
import Database from 'better-sqlite3';
import { FabricLedger } from '../src/adapters/ledger/fabricLedger';
import { issuingIdentities } from '../src/ledger-peer/issuingIdentities';
import { newEcdsaSigner, signSync, verifySignature } from '../src/adapters/ledger/ecdsa';
import { getOrIssueIdentity } from '../src/ledger-peer/localCa';
// The simulator before the contract module: it sets the chaincode log level first.
import { compareKeys, loadChaincode, type StateReader, type Version } from '../src/ledger-peer/simulator';
import { contracts } from '@ledgerflow/chaincode';
import type { NewDataset } from '../src/ports/ledger';
import { floorMethod } from './support/floorMethod';
import { processCpuMs, threadCpuMs } from './support/proc';
import { median, percentile, type BenchModule, type BenchRow } from './types';

/**
 * Embedded ledger: committed lease transactions per second through the whole path (Ledger
 * adapter -> fabric-gateway -> gRPC -> embedded peer: verify, simulate the chaincode,
 * endorse, order, validate, commit with one fsync per block, commit status), with 1 and 32
 * concurrent clients, and single-client lease latency. The peer runs as its standalone
 * process (node dist/src/ledger-peer/main.js), as when hosts share it. Baseline: the same
 * machine's fsync'd SQLite transactions per second, one row per transaction.
 *
 * Wall throughput depends on whatever else shares the cores, so the rows also give CPU per
 * lease (this process = client, the peer process with all its threads), txs per block (one
 * fsync each), the throughput that CPU cost allows with every core to ourselves, the
 * chaincode's share, and the floor: three bare gRPC calls plus the seven ECDSA operations
 * a lease needs, i.e. the least any implementation of this path can spend per lease here.
 */

const CLIENTS = 32;
const SINGLE_TXS = 200;
const PARALLEL_TXS = 2000;
/** Unmeasured leases at 32 clients before the measured ones, as many as the floors run first:
 * both sides measured with V8 done tiering up their path. 500 was not enough for the ledger's
 * (issue #20, session 10: the peer's TurboFan compiled 106 functions in the next 1500 leases,
 * 34 and 32 in the two windows of 1500 after that; its V8 threads spent 0.29 ms per lease in
 * that first window, 0.13-0.16 after). */
const WARMUP_LEASES = 2000;
const BASELINE_TXS = 500;
const FLOOR_LEASES = 3000;
const CHAINCODE_LEASES = 2200;
const ECDSA_LEASES = 1000;

async function startPeerProcess(dataDir: string): Promise<{ child: ChildProcess; endpoint: string; mspDir: string }> {
  const child = spawn(
    process.execPath,
    [...process.execArgv, join(__dirname, '../src/ledger-peer/main.js'), '--data-dir', dataDir, '--port', '0', '--org', 'uis', 'uio'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, LOG_LEVEL: 'warn' },
    },
  );
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    if (!line.startsWith('{"endpoint"')) continue;
    const { endpoint, mspDir } = JSON.parse(line) as { endpoint: string; mspDir: string };
    return { child, endpoint, mspDir };
  }
  throw new Error('the peer process did not start');
}

function dataset(i: number): NewDataset {
  return {
    id: `bench-dataset-${String(i).padStart(6, '0')}`,
    name: `bench ${i}`,
    description: '',
    policy: { leaseTtlSeconds: 3600, maxLeaseTtlSeconds: 3600 },
    storageKind: 'local',
    sealedLocation: 'c2VhbGVk',
  };
}

function sqliteBaseline(dir: string): number {
  const db = new Database(join(dir, 'baseline.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE leases (id TEXT PRIMARY KEY, holder TEXT, expires INTEGER)');
  const put = db.prepare('INSERT OR REPLACE INTO leases (id, holder, expires) VALUES (?, ?, ?)');
  const tx = db.transaction((i: number) => put.run(`d${i}`, 'alice', Date.now()));
  const start = performance.now();
  for (let i = 0; i < BASELINE_TXS; i++) tx(i);
  const seconds = (performance.now() - start) / 1000;
  db.close();
  return BASELINE_TXS / seconds;
}

interface FloorClient {
  call(req: Buffer, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: Error | null, res?: Buffer) => void): void;
  close(): void;
}
const floorCall = (client: FloorClient, request: Buffer) =>
  new Promise<Buffer>((resolve, reject) =>
    client.call(request, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err, res) => (err ? reject(err) : resolve(res!))),
  );

/**
 * The floor under any lease through this path on this machine: what one lease must spend
 * whatever the ledger does, measured in this process (client and server in one, so the
 * CPU of both counts): three unary gRPC calls of lease-sized messages at 32 in flight
 * (fabric-gateway's endorse, submit, commit status), the client's three ECDSA signatures
 * and the peer's three verifications and one endorsement signature.
 */
async function floorCpuMsPerLease(): Promise<number> {
  const server = new grpc.Server();
  const reply = Buffer.alloc(2500);
  server.addService({ call: floorMethod }, { call: (_call: unknown, done: (err: null, value: Buffer) => void) => done(null, reply) });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const Client = grpc.makeGenericClientConstructor({ call: floorMethod }, 'Floor');
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as FloorClient;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const request = Buffer.alloc(1500, 1);
  const call = () => floorCall(client, request);
  const lease = async () => {
    for (let i = 0; i < 3; i++) {
      const signature = signSync(privateKey, request);
      await call();
      verifySignature(publicKey, request, signature);
    }
    signSync(privateKey, reply);
  };
  try {
    await runPool(WARMUP_LEASES, CLIENTS, lease);
    const start = process.cpuUsage();
    await runPool(FLOOR_LEASES, CLIENTS, lease);
    const used = process.cpuUsage(start);
    return (used.user + used.system) / 1000 / FLOOR_LEASES;
  } finally {
    client.close();
    server.forceShutdown();
  }
}

/** The Ledger adapter as the bench uses it, on the peer (or gateway) at `endpoint`: no MVCC
 * retries, so every lease counted is one transaction. */
const benchLedger = (endpoint: string, mspDir: string): FabricLedger =>
  new FabricLedger({
    endpoint,
    channel: 'ledgerflow',
    chaincode: 'ledgerflow',
    identities: issuingIdentities(mspDir),
    serviceCaller: { org: 'uis', user: 'bench' },
    mvccRetries: 0,
  });

/** Starts a server of bench/fixtures in a process of its own, once it has printed `{"port"}`. */
async function startFixture(name: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; port: number; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [...process.execArgv, join(__dirname, 'fixtures', `${name}.js`)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
  };
  for await (const line of createInterface({ input: child.stdout! })) {
    return { child, port: (JSON.parse(line) as { port: number }).port, stop };
  }
  await stop();
  throw new Error(`${name} did not start`);
}

/**
 * The floor split as the path is: the client half in this process (three unary gRPC calls at
 * 32 in flight, each request signed first: fabric-gateway's proposal, transaction and
 * commit-status request) and the server half in its own process (bench/fixtures/
 * ledgerFloorServer: each request's signature verified, two endorsement signatures), so each
 * side of the lease compares with its own floor in the same units (CPU ms per lease).
 */
async function floorHalvesCpuMsPerLease(): Promise<{ client: number; server: number | undefined }> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { child, port, stop } = await startFixture('ledgerFloorServer', { FLOOR_PRIVATE_KEY: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() });
  try {
    const Client = grpc.makeGenericClientConstructor({ call: floorMethod }, 'Floor');
    const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as FloorClient;
    const message = Buffer.alloc(1500, 1);
    const lease = async () => {
      for (let i = 0; i < 3; i++) {
        const request = Buffer.from(message);
        request[0] = i;
        await floorCall(client, Buffer.concat([request, signSync(privateKey, request)]));
      }
    };
    try {
      await runPool(WARMUP_LEASES, CLIENTS, lease);
      const server = processCpuMs(child.pid!);
      const start = process.cpuUsage();
      await runPool(FLOOR_LEASES, CLIENTS, lease);
      const used = process.cpuUsage(start);
      const serverAfter = processCpuMs(child.pid!);
      return {
        client: (used.user + used.system) / 1000 / FLOOR_LEASES,
        server: server === undefined || serverAfter === undefined ? undefined : (serverAfter - server) / FLOOR_LEASES,
      };
    } finally {
      client.close();
    }
  } finally {
    await stop();
  }
}

/**
 * The real client (the Ledger adapter over fabric-gateway, as in the path) at 32 in flight
 * against a gateway that does nothing but the floor's server half and answers from a can
 * (bench/fixtures/ledgerCannedGateway): no peer can give this client more on this machine. Its
 * Endorse answer is a real endorsement of a lease of `datasetId` by the peer at `endpoint`.
 * All 32 run as one identity, the one key the canned gateway verifies.
 */
async function againstCannedGateway(endpoint: string, mspDir: string, datasetId: string): Promise<{ tps: number; client: number; server: number | undefined }> {
  const identity = await getOrIssueIdentity(mspDir, 'uio', 'client0');
  const grpcClient = new grpc.Client(endpoint, grpc.credentials.createInsecure());
  const realGateway = connect({
    client: grpcClient,
    identity: { mspId: identity.mspId, credentials: Buffer.from(identity.certPem) },
    signer: newEcdsaSigner(identity.keyPem),
    hash: hash.none,
  });
  const endorseResponse = new gatewayProtos.EndorseResponse();
  try {
    const proposal = realGateway
      .getNetwork('ledgerflow')
      .getContract('ledgerflow')
      .newProposal('TakeLease', { arguments: [datasetId, '60'] });
    const prepared = gatewayProtos.PreparedTransaction.deserializeBinary((await proposal.endorse()).getBytes());
    endorseResponse.setPreparedTransaction(prepared.getEnvelope());
  } finally {
    realGateway.close();
    grpcClient.close();
  }
  const { child, port, stop } = await startFixture('ledgerCannedGateway', {
    CLIENT_CERT: identity.certPem,
    CANNED_ENDORSE_RESPONSE: Buffer.from(endorseResponse.serializeBinary()).toString('base64'),
  });
  try {
    const adapter = benchLedger(`127.0.0.1:${port}`, mspDir);
    try {
      const client = adapter.as({ org: 'uio', user: 'client0' });
      const lease = () => client.takeLease(datasetId, 60).then(() => undefined);
      await runPool(WARMUP_LEASES, CLIENTS, lease);
      const server = processCpuMs(child.pid!);
      const start = process.cpuUsage();
      const started = performance.now();
      await runPool(PARALLEL_TXS, CLIENTS, lease);
      const tps = PARALLEL_TXS / ((performance.now() - started) / 1000);
      const used = process.cpuUsage(start);
      const serverAfter = processCpuMs(child.pid!);
      return {
        tps,
        client: (used.user + used.system) / 1000 / PARALLEL_TXS,
        server: server === undefined || serverAfter === undefined ? undefined : (serverAfter - server) / PARALLEL_TXS,
      };
    } finally {
      await adapter.close();
    }
  } finally {
    await stop();
  }
}

/**
 * CPU of the ECDSA operations one lease makes on this path, measured alone (synchronously, as
 * the floor does them): the client's three signatures (proposal, transaction, commit-status
 * request), the endorsements of the two organizations the bench's MAJORITY policy needs, and
 * the peer's three verifications. What the path spends beyond this is transport and ledger.
 */
function ecdsaCpuMsPerLease(): number {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const message = Buffer.alloc(1500, 1);
  const lease = () => {
    for (let i = 0; i < 3; i++) verifySignature(publicKey, message, signSync(privateKey, message));
    for (let i = 0; i < 2; i++) signSync(privateKey, message);
  };
  for (let i = 0; i < 100; i++) lease();
  const start = process.cpuUsage();
  for (let i = 0; i < ECDSA_LEASES; i++) lease();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / ECDSA_LEASES;
}

/**
 * CPU of the chaincode alone per lease: the in-process simulator (fabric-contract-api's
 * dispatch over fabric-shim's stub) running TakeLease against in-memory state, the part of
 * the peer's cost that is the contract rather than transport, crypto or the ledger.
 */
async function chaincodeCpuMsPerLease(mspDir: string): Promise<number> {
  const chaincode = loadChaincode('ledgerflow', contracts);
  const state = new Map<string, { value: Buffer; version: Version }>();
  const reader: StateReader = {
    get: (key) => state.get(key),
    range: (startKey, endKey) =>
      [...state]
        .filter(([key]) => compareKeys(key, startKey) >= 0 && (endKey === '' || compareKeys(key, endKey) < 0))
        .sort(([a], [b]) => compareKeys(a, b))
        .map(([key, v]) => ({ key, ...v })),
    history: () => [],
  };
  const as = async (org: string, user: string) => {
    const id = await getOrIssueIdentity(mspDir, org, user);
    return { mspId: id.mspId, certPem: id.certPem };
  };
  const [owner, client] = [await as('uis', 'owner'), await as('uio', 'client0')];
  let seq = 0;
  const run = async (creator: { mspId: string; certPem: string }, fn: string, args: string[]) => {
    const txNum = ++seq;
    const result = await chaincode.simulate({ channelId: 'ledgerflow', txId: `chaincode-bench-${txNum}`, timestamp: new Date(), creator, fn, args }, reader);
    if (result.status >= 400) throw new Error(`${fn} failed: ${result.message}`);
    for (const w of result.rwset.writes) {
      if (w.value === null) state.delete(w.key);
      else state.set(w.key, { value: w.value, version: { blockNum: 1, txNum } });
    }
  };
  for (let i = 0; i < CHAINCODE_LEASES; i++) await run(owner, 'RegisterDataset', [JSON.stringify(dataset(i))]);
  for (let i = 0; i < 200; i++) await run(client, 'TakeLease', [dataset(i).id, '60']); // warm-up
  const start = process.cpuUsage();
  for (let i = 200; i < CHAINCODE_LEASES; i++) await run(client, 'TakeLease', [dataset(i).id, '60']);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / (CHAINCODE_LEASES - 200);
}

async function runPool(count: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

/** CPU ms of this process and of the peer process (all its threads; and its main thread, the
 * event loop every request passes through) over a phase. */
function cpuMeter(peerPid: number): () => { client: number; peer: number | undefined; peerMain: number | undefined } {
  const client = process.cpuUsage();
  const peer = processCpuMs(peerPid);
  const peerMain = threadCpuMs(peerPid, peerPid);
  const since = (before: number | undefined, now: number | undefined) => (before === undefined || now === undefined ? undefined : now - before);
  return () => {
    const used = process.cpuUsage(client);
    return {
      client: (used.user + used.system) / 1000,
      peer: since(peer, processCpuMs(peerPid)),
      peerMain: since(peerMain, threadCpuMs(peerPid, peerPid)),
    };
  };
}

/** Blocks and transactions committed so far, read from the peer's ledger file (read-only). */
function ledgerCounts(file: string): { blocks: number; txs: number } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare<[], { blocks: number; txs: number }>('SELECT (SELECT COUNT(*) FROM blocks) AS blocks, (SELECT COUNT(*) FROM txs) AS txs').get()!;
    return row;
  } finally {
    db.close();
  }
}

export const ledger: BenchModule = {
  name: 'ledger',
  async run(): Promise<BenchRow[]> {
    const dir = mkdtempSync(join(tmpdir(), 'ledgerflow-bench-ledger-'));
    const dataDir = join(dir, 'data');
    const peer = await startPeerProcess(dataDir);
    const ledgerDb = join(dataDir, 'ledger', 'ledger.sqlite');
    const adapter = benchLedger(peer.endpoint, peer.mspDir);
    try {
      const owner = adapter.as({ org: 'uis', user: 'owner' });
      const total = SINGLE_TXS + WARMUP_LEASES + PARALLEL_TXS + 50;
      await runPool(total, CLIENTS, (i) => owner.registerDataset(dataset(i)).then(() => undefined));
      const clients = Array.from({ length: CLIENTS }, (_, i) => adapter.as({ org: 'uio', user: `client${i}` }));
      await Promise.all(clients.map((c) => c.getLease(dataset(0).id))); // identities issued, connections up

      // Warm-up, then one client, sequential leases.
      for (let i = 0; i < 50; i++) await clients[0]!.takeLease(dataset(total - 1 - i).id, 60);
      const latencies: number[] = [];
      const singleCpu = cpuMeter(peer.child.pid!);
      const singleStart = performance.now();
      for (let i = 0; i < SINGLE_TXS; i++) {
        const t = performance.now();
        await clients[0]!.takeLease(dataset(i).id, 60);
        latencies.push(performance.now() - t);
      }
      const singleTps = SINGLE_TXS / ((performance.now() - singleStart) / 1000);
      const single = singleCpu();

      let next = SINGLE_TXS;
      const parallelRun = (end: number) =>
        Promise.all(
          clients.map(async (client) => {
            while (next < end) await client.takeLease(dataset(next++).id, 60);
          }),
        );
      await parallelRun(SINGLE_TXS + WARMUP_LEASES);
      const before = ledgerCounts(ledgerDb);
      const parallelCpu = cpuMeter(peer.child.pid!);
      const parallelStart = performance.now();
      await parallelRun(SINGLE_TXS + WARMUP_LEASES + PARALLEL_TXS);
      const parallelTps = PARALLEL_TXS / ((performance.now() - parallelStart) / 1000);
      const parallel = parallelCpu();
      const after = ledgerCounts(ledgerDb);
      const blocks = after.blocks - before.blocks;
      const baseline = sqliteBaseline(dir);
      const floor = await floorCpuMsPerLease();
      const floorHalves = await floorHalvesCpuMsPerLease();
      const chaincodeMs = await chaincodeCpuMsPerLease(peer.mspDir);
      const ecdsaMs = ecdsaCpuMsPerLease();
      // A dataset no lease holds, for the canned gateway's one real endorsement.
      await owner.registerDataset(dataset(total));
      const canned = await againstCannedGateway(peer.endpoint, peer.mspDir, dataset(total).id);

      const perTx = (ms: number | undefined, txs: number) => (ms === undefined ? undefined : ms / txs);
      const peerMs = perTx(parallel.peer, PARALLEL_TXS);
      const clientMs = parallel.client / PARALLEL_TXS;
      const cores = availableParallelism();
      const cpuRows = (label: string, peerPerTx: number | undefined, clientPerTx: number): BenchRow[] => [
        ...(peerPerTx === undefined ? [] : [{ name: `peer CPU per lease, ${label}`, value: peerPerTx, unit: 'ms' }]),
        { name: `client CPU per lease, ${label}`, value: clientPerTx, unit: 'ms' },
      ];
      const latency = median(latencies);
      const p95 = percentile(latencies, 95);
      return [
        { name: 'lease tx/s, 1 client', value: singleTps, unit: 'tx/s', baseline, ratio: singleTps / baseline },
        { name: 'lease latency, 1 client (median)', value: latency, unit: 'ms', target: '< 10 ms', ok: latency < 10 },
        { name: 'lease latency, 1 client (p95)', value: p95, unit: 'ms' },
        ...cpuRows('1 client', perTx(single.peer, SINGLE_TXS), single.client / SINGLE_TXS),
        {
          name: `lease tx/s, ${CLIENTS} clients`,
          value: parallelTps,
          unit: 'tx/s',
          baseline,
          ratio: parallelTps / baseline,
          target: '>= 2500 tx/s',
          ok: parallelTps >= 2500,
        },
        ...cpuRows(`${CLIENTS} clients`, peerMs, clientMs),
        // The event loop is one thread: what it spends per lease bounds the throughput on its own.
        ...(parallel.peerMain === undefined
          ? []
          : [{ name: `peer main-thread CPU per lease, ${CLIENTS} clients`, value: parallel.peerMain / PARALLEL_TXS, unit: 'ms' }]),
        { name: `txs per block (= per fsync), ${CLIENTS} clients`, value: PARALLEL_TXS / blocks, unit: 'tx' },
        // What the measured CPU cost allows if client and peer had every core to themselves:
        // the ceiling on this machine, whatever else is running during the bench.
        ...(peerMs === undefined
          ? []
          : [{ name: `CPU-bound ceiling on ${cores} cores, ${CLIENTS} clients`, value: (cores * 1000) / (peerMs + clientMs), unit: 'tx/s' }]),
        { name: 'chaincode CPU per lease (simulator alone)', value: chaincodeMs, unit: 'ms' },
        // Client and peer together; the rest of their CPU per lease is gRPC, the gateway protocol and the ledger.
        { name: 'ECDSA CPU per lease (5 signatures + 3 verifications, alone)', value: ecdsaMs, unit: 'ms' },
        // 3 gRPC calls + 7 ECDSA operations and nothing else: no lease can cost less here.
        { name: 'floor CPU per lease (3 bare gRPC calls + ECDSA)', value: floor, unit: 'ms' },
        // The same floor with client and server in their own processes, as the path runs: each
        // side of the lease above against its own half (peer CPU vs server half, client CPU vs client half).
        { name: 'floor client half CPU per lease (3 bare gRPC calls + 3 signatures)', value: floorHalves.client, unit: 'ms' },
        ...(floorHalves.server === undefined
          ? []
          : [{ name: 'floor server half CPU per lease (3 bare gRPC calls + 3 verifications + 2 signatures)', value: floorHalves.server, unit: 'ms' }]),
        {
          name: `floor's ceiling on ${cores} cores`,
          value: (cores * 1000) / floor,
          unit: 'tx/s',
          ...(peerMs === undefined ? {} : { baseline: (cores * 1000) / (peerMs + clientMs), ratio: (peerMs + clientMs) / floor }),
        },
        {
          // Issue #20: the wall throughput against what the protocol's own CPU allows here.
          name: `lease tx/s, ${CLIENTS} clients vs the floor's ceiling`,
          value: parallelTps,
          unit: 'tx/s',
          baseline: (cores * 1000) / floor,
          ratio: (parallelTps * floor) / (cores * 1000),
          target: ">= 0.6x the floor's ceiling",
          ok: (parallelTps * floor) / (cores * 1000) >= 0.6,
        },
        {
          // What no peer can improve on: the same client against a gateway that only does the
          // floor's server half (explains the row above; no target of its own).
          name: `lease tx/s, ${CLIENTS} clients, against a gateway doing only the floor's server half (canned answers)`,
          value: canned.tps,
          unit: 'tx/s',
          baseline: (cores * 1000) / floor,
          ratio: (canned.tps * floor) / (cores * 1000),
        },
        { name: 'client CPU per lease, against that gateway', value: canned.client, unit: 'ms' },
        ...(canned.server === undefined ? [] : [{ name: "that gateway's CPU per lease", value: canned.server, unit: 'ms' }]),
        { name: "raw fsync'd SQLite tx/s (baseline)", value: baseline, unit: 'tx/s' },
      ];
    } finally {
      await adapter.close();
      peer.child.kill('SIGTERM');
      await new Promise((resolve) => peer.child.once('exit', resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

if (require.main === module) {
  ledger.run().then(
    (rows) => console.table(rows),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
