import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { createPrivateKey } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { gateway, orderer as ordererProtos, peer as peerProtos } from '@hyperledger/fabric-protos';
import { writeFileAtomic } from '../fs/atomicFile';
import { peerEndpointFile } from './endpointFile';
import { createLogger, type Logger } from '../observability/logger';
import { signSync } from '../adapters/ledger/ecdsa';
import { gatewayImplementation } from './gatewayService';
import { getOrIssueIdentity, getOrIssueOrgIdentity, getOrIssueTlsServerCert, listCaCerts, mspRoot, PEER_ORG, peerMspRoot, type IdentityFiles } from './localCa';
import { broadcastImplementation } from './broadcastService';
import { ChannelState, storedChannelConfig } from './channel';
import { configTransaction, type ChannelConfig, type ChannelOrg, type IdentitySigner } from './channelConfig';
import { DEFAULT_ENDORSEMENT_POLICY, parseEndorsementPolicy } from './endorsementPolicy';
import { Endorsers } from './endorsers';
import { deliverImplementation } from './deliverService';
import { Membership, serializeIdentity } from './membership';
import { Orderer } from './orderer';
import { LedgerStore, lockLedger } from './store';
import { queryChaincode } from './qscc';
// The simulator must load before the contract module (it sets the shim's log level).
import { loadChaincode, type Chaincode } from './simulator';
import { contracts } from '@ledgerflow/chaincode';

/**
 * The embedded Fabric peer: one process that endorses (runs the chaincode in process),
 * orders and commits, and serves the Fabric Gateway gRPC API on loopback so the app's one
 * ledger adapter (@hyperledger/fabric-gateway) talks to it as to a Fabric network.
 */

export interface EmbeddedPeerOptions {
  dataDir: string;
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  channel?: string;
  /** The chaincodes to serve; default: the ledgerflow contract. */
  chaincodes?: Chaincode[];
  /** Serve TLS with a certificate from the peer's CA (returned as tlsRootCert). Required
   * when listening on anything but loopback. */
  tls?: boolean;
  blockMaxTx?: number;
  blockTimeoutMs?: number;
  /** The channel's organizations when the ledger is created (its genesis config block); with
   * the organizations whose CAs are in the data dir then. Afterwards organizations join only
   * through a config update (`ledgerflow ledger add-org`). */
  orgs?: string[];
  /** The chaincodes' endorsement policy: `MAJORITY Endorsement` (default), `ANY Endorsement`,
   * `ALL Endorsement`, or a signature policy such as `OR('UisMSP.member','UioMSP.member')`. */
  endorsementPolicy?: string;
  logger?: Logger;
}

export interface EmbeddedPeer {
  /** host:port for the gateway client. */
  endpoint: string;
  /** PEM of the TLS root to trust; absent: plaintext on loopback. */
  tlsRootCert?: string;
  channel: string;
  /** Where organizations' CAs and issued identities live (`<dataDir>/ledger/msp`). */
  mspDir: string;
  stop(): Promise<void>;
}

export { peerEndpointFile } from './endpointFile';
export const DEFAULT_CHANNEL = 'ledgerflow';
export function ledgerFile(dataDir: string): string {
  return join(dataDir, 'ledger', 'ledger.sqlite');
}

export async function startEmbeddedPeer(options: EmbeddedPeerOptions): Promise<EmbeddedPeer> {
  const log = options.logger ?? createLogger({ name: 'ledger-peer' });
  const channel = options.channel ?? DEFAULT_CHANNEL;
  const chaincodes = options.chaincodes ?? [ledgerflowChaincode()];
  const chaincodePolicy = parseEndorsementPolicy(options.endorsementPolicy ?? DEFAULT_ENDORSEMENT_POLICY);
  const node = await getOrIssueIdentity(peerMspRoot(options.dataDir), PEER_ORG, 'peer0');
  const nodeKey = createPrivateKey(node.keyPem);
  const ordererSigner = { identity: serializeIdentity(node.mspId, node.certPem), sign: (m: Uint8Array) => signSync(nodeKey, m) };
  const file = ledgerFile(options.dataDir);
  const lock = lockLedger(file);
  const store = new LedgerStore(file, { cache: true });
  const { channelState, configTx } = await openChannel(options.dataDir, channel, store, options.orgs ?? [], node, ordererSigner).catch((err: unknown) => {
    store.close();
    lock.release();
    throw err;
  });
  const orderer = await Orderer.open(
    store,
    { channel: channelState, chaincodePolicy: () => chaincodePolicy },
    {
      file,
      maxTx: options.blockMaxTx ?? 500,
      timeoutMs: options.blockTimeoutMs ?? 2,
      onCommitError: (err, blockNum) => log.fatal({ err, blockNum }, 'block could not be committed; the peer stops ordering (restart it)'),
      onDiskFull: (err, blockNum) =>
        log.warn({ err: err.message, blockNum }, 'the data disk is full: block dropped, its transactions refused; the next block retries'),
    },
    configTx,
  );
  if (configTx !== undefined) log.info({ orgs: channelState.orgMspIds, height: orderer.height }, 'channel configuration block written');
  const outside = (options.orgs ?? []).filter((org) => !channelState.config?.orgs.some((o) => o.org === org));
  if (outside.length > 0) {
    log.warn(
      { orgs: outside },
      `configured organizations are not members of the channel; their identities are refused until \`ledgerflow ledger add-org <org>\``,
    );
  }

  const host = options.host ?? '127.0.0.1';
  if (!options.tls && !isLoopback(host)) throw new Error(`the peer serves plaintext only on loopback; use TLS to listen on ${host}`);
  const tls = options.tls ? await getOrIssueTlsServerCert(peerMspRoot(options.dataDir), PEER_ORG, tlsHosts(host)) : undefined;
  let endpoint = `${host}:${options.port ?? 0}`;
  // Channelz (grpc-js's per-call counters for its debug service, which is not served here)
  // off: bookkeeping on every call.
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * 1024 * 1024, 'grpc.enable_channelz': 0 });
  const implementation = gatewayImplementation({
    channel,
    chaincodes: new Map([...chaincodes, queryChaincode(channel, store)].map((c) => [c.name, c])),
    channelState,
    endorsers: new Endorsers(mspRoot(options.dataDir)),
    chaincodePolicy: () => chaincodePolicy,
    store,
    orderer,
    peerMspId: node.mspId,
    address: () => endpoint,
    log,
  });
  server.addService(gateway.GatewayService, implementation);
  server.addService(ordererProtos.AtomicBroadcastService, broadcastImplementation({ channel, channelState, orderer, ordererSigner, log }));
  server.addService(peerProtos.DeliverService, deliverImplementation({ channel, membership: channelState, store, orderer, log }));
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(
        `${host.includes(':') ? `[${host}]` : host}:${options.port ?? 0}`,
        tls === undefined
          ? grpc.ServerCredentials.createInsecure()
          : grpc.ServerCredentials.createSsl(null, [{ private_key: Buffer.from(tls.keyPem), cert_chain: Buffer.from(tls.certPem) }], false),
        (err, bound) => (err ? reject(err) : resolve(bound)),
      ),
    );
  } catch (err) {
    await orderer.close();
    store.close();
    lock.release();
    throw err;
  }
  endpoint = `${tls === undefined || !isLoopback(host) ? host : 'localhost'}:${port}`;
  log.info({ endpoint, channel, height: orderer.height }, 'embedded Fabric peer listening');
  const endpointFile = peerEndpointFile(options.dataDir);
  await writeFileAtomic(endpointFile, Buffer.from(JSON.stringify({ endpoint, channel, ...(tls === undefined ? {} : { tlsRootCert: tls.caCertPem }) })), 0o644);
  return {
    endpoint,
    ...(tls === undefined ? {} : { tlsRootCert: tls.caCertPem }),
    channel,
    mspDir: mspRoot(options.dataDir),
    stop: async () => {
      if (!store.db.open) return;
      // Refuse new calls, commit what was submitted, then close the file; open event streams
      // and commit-status waits end with the server.
      server.forceShutdown();
      rmSync(endpointFile, { force: true });
      await orderer.close();
      store.close();
      lock.release();
    },
  };
}

/**
 * The channel as the stored chain defines it, and the config transaction to write first when
 * it defines none: the genesis block of a new ledger (organizations: `orgs` and the CAs in the
 * data dir), or, for a ledger written before channels had a configuration, a config block
 * derived from the CAs present at this first start after the upgrade (and `orgs`), after which
 * membership is that configuration's.
 */
async function openChannel(
  dataDir: string,
  channel: string,
  store: LedgerStore,
  orgs: readonly string[],
  node: IdentityFiles,
  ordererSigner: IdentitySigner,
): Promise<{ channelState: ChannelState; configTx?: Uint8Array }> {
  const stored = storedChannelConfig(store);
  if (stored !== undefined) return { channelState: new ChannelState(stored) };
  const names = [...new Set([...orgs, ...listCaCerts(mspRoot(dataDir)).map((c) => c.org)])].sort();
  if (names.length === 0) throw new Error('a new ledger needs at least one organization (LEDGER_ORGS, or the organizations of LEDGERFLOW_TOKENS)');
  const members: ChannelOrg[] = [];
  for (const org of names) {
    const admin = await getOrIssueOrgIdentity(mspRoot(dataDir), org, 'admin');
    members.push({ org, mspId: admin.mspId, caCertPem: admin.caCertPem, adminCertPems: [admin.certPem] });
  }
  const config: ChannelConfig = {
    channel,
    sequence: 0,
    orgs: members.sort((a, b) => (a.mspId < b.mspId ? -1 : a.mspId > b.mspId ? 1 : 0)),
    orderer: { org: PEER_ORG, mspId: node.mspId, caCertPem: node.caCertPem, adminCertPems: [] },
  };
  // Blocks before the first config block were validated against every CA of the data dir,
  // with the peer's own organization as the one endorser.
  const legacy = Membership.fromCaDirs([mspRoot(dataDir), peerMspRoot(dataDir)]);
  return { channelState: new ChannelState({ legacy, endorserMspId: node.mspId }), configTx: configTransaction(config, undefined, ordererSigner) };
}

/** The ledgerflow contract, as deployed to a Fabric network (chaincode name `ledgerflow`). */
export const DEFAULT_CHAINCODE = 'ledgerflow';
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function tlsHosts(host: string): string[] {
  return [...new Set(['localhost', '127.0.0.1', '::1', ...(host === '0.0.0.0' || host === '::' ? [hostname()] : [host])])];
}

let loaded: Chaincode | undefined;
/** The ledgerflow contract, loaded once per process, as a peer keeps one container per chaincode. */
export function ledgerflowChaincode(): Chaincode {
  loaded ??= loadChaincode(DEFAULT_CHAINCODE, contracts);
  return loaded;
}
