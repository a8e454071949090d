import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { connect, hash, type Contract, type Gateway, type Network, type Signer } from '@hyperledger/fabric-gateway';
import { common, peer } from '@hyperledger/fabric-protos';
import { newEcdsaSigner } from '../../../src/adapters/ledger/ecdsa';
import { createLogger } from '../../../src/observability/logger';
import { loadChaincodePackage } from '../../../src/ledger-peer/chaincodePackage';
import { getOrIssueIdentity } from '../../../src/ledger-peer/localCa';
import { DEFAULT_CHAINCODE, startEmbeddedPeer, type EmbeddedPeer, type EmbeddedPeerOptions } from '../../../src/ledger-peer/peer';
import { loadChaincode, type Chaincode } from '../../../src/ledger-peer/simulator';
import { contracts } from '@ledgerflow/chaincode';

/**
 * The Fabric conformance harness: an embedded peer in a temp data dir, hosting the suite's
 * own asset contract (asset-transfer/, written as Hyperledger's asset-transfer-basic
 * JavaScript chaincode is) and the project's chaincode, and clients that reach it ONLY as
 * an application reaches a Fabric 2.5 network: @hyperledger/fabric-gateway (Evaluate,
 * Endorse, Submit, CommitStatus, ChaincodeEvents, Deliver) and qscc. What a test asserts is
 * what a client of a real peer observes.
 */

export const CHANNEL = 'ledgerflow';
export const ASSET_CHAINCODE = 'basic';
/** The source dir (a JavaScript package, not compiled): from dist/test/conformance/fabric. */
export const assetPackageDir = resolve(__dirname, '..', '..', '..', '..', 'test', 'conformance', 'fabric', 'asset-transfer');

const silent = createLogger({ level: 'silent' });

let assetChaincode: Chaincode | undefined;
let ledgerflowChaincode: Chaincode | undefined;
/** Loaded once per test process, as a peer keeps one container per chaincode. */
export function conformanceChaincodes(): Chaincode[] {
  assetChaincode ??= loadChaincodePackage(`${ASSET_CHAINCODE}=${assetPackageDir}`);
  ledgerflowChaincode ??= loadChaincode(DEFAULT_CHAINCODE, contracts);
  return [assetChaincode, ledgerflowChaincode];
}

export interface Client {
  gateway: Gateway;
  network: Network;
  assets: Contract;
  ledgerflow: Contract;
  qscc: Contract;
  close(): void;
}

export interface ConformancePeer {
  dataDir: string;
  peer: EmbeddedPeer;
  /** A gateway connection as `user` of `org` (its identity issued by the org's CA). */
  client(org: string, user: string): Promise<Client>;
  /** A gateway connection with an explicit identity and signer (forged, foreign...). */
  connectWith(identity: { mspId: string; credentials: Uint8Array }, signer: Signer): Client;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startConformancePeer(options: Partial<EmbeddedPeerOptions> = {}): Promise<ConformancePeer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledgerflow-fabric-conformance-'));
  // The channel's organizations (its genesis config block): the suite acts as org1 and org2.
  const start = () => startEmbeddedPeer({ logger: silent, chaincodes: conformanceChaincodes(), orgs: ['org1', 'org2'], ...options, dataDir, port: 0 });
  const grpcClients: grpc.Client[] = [];
  const clients: Client[] = [];
  const connectWith = (identity: { mspId: string; credentials: Uint8Array }, signer: Signer): Client => {
    const grpcClient = new grpc.Client(fixture.peer.endpoint, grpc.credentials.createInsecure());
    grpcClients.push(grpcClient);
    // hash.none: the signer hashes (SHA-256), as the project's adapter signs.
    const gateway = connect({ client: grpcClient, identity, signer, hash: hash.none });
    const network = gateway.getNetwork(CHANNEL);
    const client: Client = {
      gateway,
      network,
      assets: network.getContract(ASSET_CHAINCODE),
      ledgerflow: network.getContract(DEFAULT_CHAINCODE),
      qscc: network.getContract('qscc'),
      close: () => {
        gateway.close();
        grpcClient.close();
      },
    };
    clients.push(client);
    return client;
  };
  const fixture: ConformancePeer = {
    dataDir,
    peer: await start(),
    async client(org, user) {
      const issued = await getOrIssueIdentity(fixture.peer.mspDir, org, user);
      return connectWith({ mspId: issued.mspId, credentials: Buffer.from(issued.certPem) }, newEcdsaSigner(issued.keyPem));
    },
    connectWith,
    async restart() {
      await fixture.peer.stop();
      fixture.peer = await start();
    },
    async close() {
      for (const c of clients.splice(0)) c.close();
      for (const g of grpcClients.splice(0)) g.close();
      await fixture.peer.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return fixture;
}

const utf8 = new TextDecoder();
export const text = (bytes: Uint8Array): string => utf8.decode(bytes);
export const json = <T = unknown>(bytes: Uint8Array): T => JSON.parse(text(bytes)) as T;

let assetSeq = 0;
/** A fresh asset id per call (tests share one peer). */
export function newAssetId(): string {
  assetSeq += 1;
  return `asset-${process.pid}-${assetSeq}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Submits CreateAsset and returns its tx id and block. */
export async function createAsset(client: Client, id: string, owner = 'Tomoko'): Promise<{ transactionId: string; blockNumber: bigint }> {
  const submitted = await client.assets.submitAsync('CreateAsset', { arguments: [id, 'blue', '5', owner, '300'] });
  const status = await submitted.getStatus();
  if (!status.successful) throw new Error(`CreateAsset ${id} committed with code ${status.code}`);
  return { transactionId: submitted.getTransactionId(), blockNumber: status.blockNumber };
}

/** qscc answers, decoded as a Fabric client decodes them. */
export const qscc = {
  async chainInfo(client: Client): Promise<common.BlockchainInfo> {
    return common.BlockchainInfo.deserializeBinary(await client.qscc.evaluateTransaction('GetChainInfo', CHANNEL));
  },
  async blockByNumber(client: Client, n: bigint | number): Promise<common.Block> {
    return common.Block.deserializeBinary(await client.qscc.evaluateTransaction('GetBlockByNumber', CHANNEL, String(n)));
  },
  async blockByTxId(client: Client, txId: string): Promise<common.Block> {
    return common.Block.deserializeBinary(await client.qscc.evaluateTransaction('GetBlockByTxID', CHANNEL, txId));
  },
  async transactionById(client: Client, txId: string): Promise<peer.ProcessedTransaction> {
    return peer.ProcessedTransaction.deserializeBinary(await client.qscc.evaluateTransaction('GetTransactionByID', CHANNEL, txId));
  },
};

/** Reads up to `count` items from an events iterator, then closes it. */
export async function take<T>(events: AsyncIterable<T> & { close(): void }, count: number): Promise<T[]> {
  const out: T[] = [];
  try {
    for await (const e of events) {
      out.push(e);
      if (out.length >= count) break;
    }
  } finally {
    events.close();
  }
  return out;
}
