import { existsSync, readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { common, orderer as ordererProtos } from '@hyperledger/fabric-protos';
import { signSync } from '../adapters/ledger/ecdsa';
import { ORG_NAME } from '../core/names';
import { createLogger } from '../observability/logger';
import { storedChannelConfig } from './channel';
import { addOrgsUpdate, configUpdateEnvelope, signConfigUpdate, type ChannelConfig, type IdentitySigner } from './channelConfig';
import { peerEndpointFile } from './endpointFile';
import { getOrIssueOrgIdentity, mspRoot } from './localCa';
import { serializeIdentity } from './membership';
import { ledgerFile, startEmbeddedPeer } from './peer';
import { LedgerStore } from './store';

/**
 * `ledgerflow ledger add-org <org>`: a channel configuration update that adds an organization,
 * as `peer channel update` makes one on Fabric. The new organization's CA (created if absent)
 * and admin are read from the data dir; the update is signed by the admins of a MAJORITY of
 * the current organizations (the default `/Channel/Application/Admins` policy) and broadcast
 * to the orderer of the running peer (or of one started here for the purpose).
 *
 * Honesty note: on a Fabric network each organization's admin signs with a key only that
 * organization holds, and the update travels between them for signatures. In the embedded
 * peer one data dir holds every local CA, so this command can sign as each admin itself; what
 * it cannot do is add an organization without those signatures: the orderer and every
 * validation of the config block check them (tests: a forged update is refused).
 */
export interface AddOrgResult {
  sequence: number;
  orgs: string[];
  signedBy: string[];
}

export async function addOrg(dataDir: string, org: string, options: { signers?: string[] } = {}): Promise<AddOrgResult> {
  if (!ORG_NAME.test(org)) throw new Error(`invalid organization name ${JSON.stringify(org)}`);
  const current = currentConfig(dataDir);
  if (current.orgs.some((o) => o.org === org)) throw new Error(`${org} is already an organization of channel ${current.channel}`);
  const mspDir = mspRoot(dataDir);
  const admin = await getOrIssueOrgIdentity(mspDir, org, 'admin');
  const update = addOrgsUpdate(current, [{ org, mspId: admin.mspId, caCertPem: admin.caCertPem, adminCertPems: [admin.certPem] }]);
  const needed = Math.floor(current.orgs.length / 2) + 1;
  const signing = options.signers ?? current.orgs.slice(0, needed).map((o) => o.org);
  const admins: IdentitySigner[] = [];
  for (const name of signing) admins.push(await adminSigner(mspDir, name));
  const envelope = configUpdateEnvelope(
    current.channel,
    update,
    admins.map((a) => signConfigUpdate(update, a)),
    admins[0] ?? (await adminSigner(mspDir, current.orgs[0]!.org)),
  );
  await broadcastConfigUpdate(dataDir, envelope);
  const next = currentConfig(dataDir);
  return { sequence: next.sequence, orgs: next.orgs.map((o) => o.org), signedBy: signing };
}

/** The configuration in force in a data dir's ledger (one read, while its peer runs or not). */
export function currentConfig(dataDir: string): ChannelConfig {
  const file = ledgerFile(dataDir);
  if (!existsSync(file)) throw new Error(`no ledger at ${file}`);
  const store = new LedgerStore(file, { mustExist: true });
  try {
    const config = storedChannelConfig(store);
    if (config === undefined) throw new Error('the ledger has no channel configuration yet: start its peer once (it derives one)');
    return config;
  } finally {
    store.close();
  }
}

async function adminSigner(mspDir: string, org: string): Promise<IdentitySigner> {
  const admin = await getOrIssueOrgIdentity(mspDir, org, 'admin');
  const key = createPrivateKey(admin.keyPem);
  return { identity: serializeIdentity(admin.mspId, admin.certPem), sign: (m) => signSync(key, m) };
}

/** Sends a CONFIG_UPDATE envelope to the peer's orderer (Broadcast) and waits for its answer;
 * starts the data dir's peer for the purpose when none runs. */
export async function broadcastConfigUpdate(dataDir: string, envelope: common.Envelope): Promise<void> {
  const endpointFile = peerEndpointFile(dataDir);
  if (existsSync(endpointFile)) {
    const { endpoint, tlsRootCert } = JSON.parse(readFileSync(endpointFile, 'utf8')) as { endpoint: string; tlsRootCert?: string };
    return broadcast(endpoint, tlsRootCert, envelope);
  }
  const peer = await startEmbeddedPeer({ dataDir, port: 0, logger: createLogger({ level: 'silent' }) });
  try {
    await broadcast(peer.endpoint, peer.tlsRootCert, envelope);
  } finally {
    await peer.stop();
  }
}

export async function broadcast(endpoint: string, tlsRootCert: string | undefined, envelope: common.Envelope): Promise<void> {
  const client = new grpc.Client(
    endpoint,
    tlsRootCert === undefined ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(Buffer.from(tlsRootCert)),
  );
  try {
    const response = await new Promise<ordererProtos.BroadcastResponse>((resolve, reject) => {
      const call = client.makeBidiStreamRequest(
        '/orderer.AtomicBroadcast/Broadcast',
        (e: common.Envelope) => Buffer.from(e.serializeBinary()),
        (bytes: Buffer) => ordererProtos.BroadcastResponse.deserializeBinary(bytes),
      );
      call.once('data', (r: ordererProtos.BroadcastResponse) => {
        resolve(r);
        call.end();
      });
      call.once('error', reject);
      call.write(envelope);
    });
    if (response.getStatus() !== common.Status.SUCCESS) throw new BroadcastError(response.getStatus(), response.getInfo());
  } finally {
    client.close();
  }
}

export class BroadcastError extends Error {
  constructor(
    readonly status: number,
    readonly info: string,
  ) {
    super(`the orderer refused the config update (${status}): ${info}`);
  }
}
