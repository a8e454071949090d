import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../../src/observability/logger';
import { startEmbeddedPeer, type EmbeddedPeer, type EmbeddedPeerOptions } from '../../../src/ledger-peer/peer';
import { FabricLedger } from '../../../src/adapters/ledger/fabricLedger';
import { issuingIdentities } from '../../../src/ledger-peer/issuingIdentities';
import type { NewDataset } from '../../../src/ports/ledger';

/** An embedded peer in a temp data dir, and the fabric-gateway Ledger adapter talking to it over gRPC. */
export interface PeerFixture {
  dataDir: string;
  peer: EmbeddedPeer;
  ledger: FabricLedger;
  restart(): Promise<void>;
  /** Stops the adapter and the peer, keeping the data dir (to read the ledger file). */
  stop(): Promise<void>;
  close(): Promise<void>;
}

export const silent = createLogger({ level: 'silent' });
/** The platform identity (issued with `ledgerflow.role=platform`), which also reads events. */
export const PLATFORM = { org: 'uis', user: 'ledgerflow' } as const;
/** The channel's organizations: every organization the ledger tests act for. */
export const TEST_ORGS = ['uis', 'uio', 'uib', 'ntnu'] as const;

export async function startPeerFixture(options: Partial<EmbeddedPeerOptions> = {}): Promise<PeerFixture> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'ledgerflow-peer-'));
  const start = () => startEmbeddedPeer({ logger: silent, orgs: [...TEST_ORGS], ...options, dataDir, port: 0 });
  const connectLedger = (peer: EmbeddedPeer) =>
    new FabricLedger({
      endpoint: peer.endpoint,
      ...(peer.tlsRootCert === undefined ? {} : { tlsRootCert: peer.tlsRootCert }),
      channel: peer.channel,
      chaincode: 'ledgerflow',
      identities: issuingIdentities(peer.mspDir, PLATFORM),
      serviceCaller: PLATFORM,
    });
  const fixture: PeerFixture = {
    dataDir,
    peer: await start(),
    ledger: undefined as unknown as FabricLedger,
    async restart() {
      await fixture.stop();
      fixture.peer = await start();
      fixture.ledger = connectLedger(fixture.peer);
    },
    async stop() {
      await fixture.ledger.close();
      await fixture.peer.stop();
    },
    async close() {
      await fixture.stop();
      if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  fixture.ledger = connectLedger(fixture.peer);
  return fixture;
}

let seq = 0;
export function newDataset(overrides: Partial<NewDataset> = {}): NewDataset {
  seq += 1;
  return {
    id: `ds-${process.pid}-${seq}-${Math.random().toString(36).slice(2, 8)}`,
    name: `dataset ${seq}`,
    description: 'test data',
    policy: { leaseTtlSeconds: 60, maxLeaseTtlSeconds: 3600 },
    storageKind: 'local',
    sealedLocation: 'c2VhbGVk',
    ...overrides,
  };
}
