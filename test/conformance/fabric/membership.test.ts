import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrivateKey } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { connect, hash, type Gateway } from '@hyperledger/fabric-gateway';
import { common, gateway as gatewayProtos, msp, peer as peerProtos } from '@hyperledger/fabric-protos';
import { newEcdsaSigner, signSync } from '../../../src/adapters/ledger/ecdsa';
import { addOrg, broadcast, BroadcastError, currentConfig } from '../../../src/ledger-peer/addOrg';
import { buildBlock, transactionsFilter } from '../../../src/ledger-peer/blocks';
import { addOrgsUpdate, configTransaction, configUpdateEnvelope, signConfigUpdate } from '../../../src/ledger-peer/channelConfig';
import { getOrIssueIdentity, getOrIssueOrgIdentity } from '../../../src/ledger-peer/localCa';
import { serializeIdentity } from '../../../src/ledger-peer/membership';
import { ledgerFile, startEmbeddedPeer, type EmbeddedPeer } from '../../../src/ledger-peer/peer';
import { LedgerStore } from '../../../src/ledger-peer/store';
import { verifyLedger } from '../../../src/ledger-peer/verify';
import { createLogger } from '../../../src/observability/logger';
import { runCli as runCliIn } from '../../helpers/cli';

/**
 * Channel membership as on Fabric 2.5, seen through @hyperledger/fabric-gateway and qscc: the
 * genesis block is a config block (common.Config with one Application group per organization
 * and its MSP), an identity of a CA the configuration does not name is refused however its CA
 * got into the data dir, and an organization joins only by a config update that admins of a
 * majority of the organizations signed.
 */

const silent = createLogger({ level: 'silent' });

async function client(peer: EmbeddedPeer, org: string, user: string): Promise<{ gateway: Gateway; close(): void }> {
  const id = await getOrIssueIdentity(peer.mspDir, org, user);
  const grpcClient = new grpc.Client(peer.endpoint, grpc.credentials.createInsecure());
  const gateway = connect({
    client: grpcClient,
    identity: { mspId: id.mspId, credentials: Buffer.from(id.certPem) },
    signer: newEcdsaSigner(id.keyPem),
    hash: hash.none,
  });
  return {
    gateway,
    close: () => {
      gateway.close();
      grpcClient.close();
    },
  };
}

const chainHeight = (info: Uint8Array) => Number(common.BlockchainInfo.deserializeBinary(info).getHeight());
const qscc = (gateway: Gateway) => gateway.getNetwork('ledgerflow').getContract('qscc');

/** The organizations (MSP id -> root certificate) a config block lists. */
function configOrgs(blockBytes: Uint8Array): Map<string, string> {
  const block = common.Block.deserializeBinary(blockBytes);
  const payload = common.Payload.deserializeBinary(common.Envelope.deserializeBinary(block.getData()!.getDataList_asU8()[0]!).getPayload_asU8());
  assert.equal(common.ChannelHeader.deserializeBinary(payload.getHeader()!.getChannelHeader_asU8()).getType(), common.HeaderType.CONFIG);
  const config = common.ConfigEnvelope.deserializeBinary(payload.getData_asU8()).getConfig()!;
  const orgs = new Map<string, string>();
  config
    .getChannelGroup()!
    .getGroupsMap()
    .get('Application')!
    .getGroupsMap()
    .forEach((group: common.ConfigGroup, name: string) => {
      const mspConfig = msp.MSPConfig.deserializeBinary(group.getValuesMap().get('MSP')!.getValue_asU8());
      const fabric = msp.FabricMSPConfig.deserializeBinary(mspConfig.getConfig_asU8());
      assert.equal(fabric.getName(), name);
      orgs.set(name, Buffer.from(fabric.getRootCertsList_asU8()[0]!).toString());
    });
  return orgs;
}

/** Fabric's words for a creator whose MSP the channel does not define. */
const refused = (err: unknown) =>
  /access denied: channel \[ledgerflow\] creator org unknown/.test(`${String(err)} ${JSON.stringify((err as { details?: unknown }).details ?? '')}`);

test('the genesis block is a Fabric config block; a CA created after start is refused until add-org, which a Fabric tool sees as a config block', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledgerflow-members-'));
  const peer = await startEmbeddedPeer({ dataDir, port: 0, orgs: ['uis', 'uio'], logger: silent });
  const alice = await client(peer, 'uis', 'alice');
  try {
    const genesis = configOrgs(await qscc(alice.gateway).evaluateTransaction('GetBlockByNumber', 'ledgerflow', '0'));
    assert.deepEqual([...genesis.keys()].sort(), ['UioMSP', 'UisMSP']);
    assert.equal(genesis.get('UisMSP'), (await getOrIssueIdentity(peer.mspDir, 'uis', 'alice')).caCertPem);

    // A CA of its own in the data dir does not make an organization a member.
    const ntnu = await client(peer, 'ntnu', 'nina');
    await assert.rejects(qscc(ntnu.gateway).evaluateTransaction('GetChainInfo', 'ledgerflow'), refused);
    await assert.rejects(ntnu.gateway.getNetwork('ledgerflow').getContract('ledgerflow').submitTransaction('ExpireLeases'), refused);

    const result = await addOrg(dataDir, 'ntnu');
    assert.deepEqual(result.orgs, ['ntnu', 'uio', 'uis']);
    assert.deepEqual(result.signedBy, ['uio', 'uis']); // 2 of 2: a majority
    const height = Number(common.BlockchainInfo.deserializeBinary(await qscc(ntnu.gateway).evaluateTransaction('GetChainInfo', 'ledgerflow')).getHeight());
    const config = configOrgs(await qscc(ntnu.gateway).evaluateTransaction('GetBlockByNumber', 'ledgerflow', String(height - 1)));
    assert.deepEqual([...config.keys()].sort(), ['NtnuMSP', 'UioMSP', 'UisMSP']);
    ntnu.close();
    await assert.rejects(addOrg(dataDir, 'ntnu'), /already an organization/);
  } finally {
    alice.close();
    await peer.stop();
  }
  try {
    // The config blocks replay: verify rebuilds membership block by block.
    assert.deepEqual(verifyLedger(dataDir).ok, true);
    // add-org also works with no peer running (it starts one for the update).
    await addOrg(dataDir, 'uib');
    assert.deepEqual(
      currentConfig(dataDir).orgs.map((o) => o.org),
      ['ntnu', 'uib', 'uio', 'uis'],
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a config update without admins of a majority of organizations is refused by the orderer', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledgerflow-members-'));
  const peer = await startEmbeddedPeer({ dataDir, port: 0, orgs: ['uis', 'uio', 'uib'], logger: silent });
  try {
    const current = currentConfig(dataDir);
    const evil = await getOrIssueOrgIdentity(peer.mspDir, 'evil', 'admin');
    const update = addOrgsUpdate(current, [{ org: 'evil', mspId: evil.mspId, caCertPem: evil.caCertPem, adminCertPems: [evil.certPem] }]);
    const signerOf = async (org: string, kind: 'admin' | 'client') => {
      const files = kind === 'admin' ? await getOrIssueOrgIdentity(peer.mspDir, org, 'admin') : await getOrIssueIdentity(peer.mspDir, org, 'mallory');
      const key = createPrivateKey(files.keyPem);
      return { identity: serializeIdentity(files.mspId, files.certPem), sign: (m: Uint8Array) => signSync(key, m) };
    };
    const uibAdmin = await signerOf('uib', 'admin');
    const attempts = [
      // One admin of three.
      [uibAdmin],
      // Two organizations, but one signature is a plain member's, not its admin's.
      [uibAdmin, await signerOf('uio', 'client')],
      // The new organization's own admin does not count.
      [uibAdmin, await signerOf('evil', 'admin')],
    ];
    for (const signers of attempts) {
      const envelope = configUpdateEnvelope(
        current.channel,
        update,
        signers.map((s) => signConfigUpdate(update, s)),
        uibAdmin,
      );
      await assert.rejects(broadcast(peer.endpoint, undefined, envelope), (err: unknown) => err instanceof BroadcastError && /sub-policies/.test(err.info));
    }
    // A signature over other bytes is no signature: uio's admin signed a different update.
    const other = addOrgsUpdate(current, [{ org: 'evil', mspId: evil.mspId, caCertPem: evil.caCertPem, adminCertPems: [] }]);
    const uioAdmin = await signerOf('uio', 'admin');
    const mixed = configUpdateEnvelope(current.channel, update, [signConfigUpdate(update, uibAdmin), signConfigUpdate(other, uioAdmin)], uibAdmin);
    await assert.rejects(broadcast(peer.endpoint, undefined, mixed), BroadcastError);
    assert.deepEqual(
      currentConfig(dataDir).orgs.map((o) => o.mspId),
      ['UibMSP', 'UioMSP', 'UisMSP'],
    );
    // Two admins of three are a majority.
    const ok = configUpdateEnvelope(current.channel, update, [signConfigUpdate(update, uibAdmin), signConfigUpdate(update, uioAdmin)], uibAdmin);
    await broadcast(peer.endpoint, undefined, ok);
    assert.ok(currentConfig(dataDir).orgs.some((o) => o.mspId === 'EvilMSP'));
  } finally {
    await peer.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a ledger from before channel configurations gets a config block from the CAs present at its first start, then refuses new CAs', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledgerflow-members-'));
  try {
    // The old layout: an empty block 0, and the organizations' CAs in the data dir.
    const mspDir = join(dataDir, 'ledger', 'msp');
    await getOrIssueIdentity(mspDir, 'uis', 'alice');
    await getOrIssueIdentity(mspDir, 'uio', 'bob');
    const store = new LedgerStore(ledgerFile(dataDir));
    const { block, headerHash } = buildBlock(0, Buffer.alloc(0), [], []);
    store.commitBlock({ number: 0, headerHash, bytes: block.serializeBinary(), txs: [] });
    store.close();

    const peer = await startEmbeddedPeer({ dataDir, port: 0, logger: silent });
    try {
      assert.deepEqual(
        currentConfig(dataDir).orgs.map((o) => o.org),
        ['uio', 'uis'],
      );
      const bob = await client(peer, 'uio', 'bob');
      await qscc(bob.gateway).evaluateTransaction('GetChainInfo', 'ledgerflow');
      bob.close();
      const ntnu = await client(peer, 'ntnu', 'nina');
      await assert.rejects(qscc(ntnu.gateway).evaluateTransaction('GetChainInfo', 'ledgerflow'), refused);
      ntnu.close();
    } finally {
      await peer.stop();
    }
    // Derived once: a restart finds the config block and adds none.
    const before = verifyLedger(dataDir);
    await (await startEmbeddedPeer({ dataDir, port: 0, orgs: ['uib'], logger: silent })).stop();
    const after = verifyLedger(dataDir);
    assert.equal(after.ok, true);
    assert.equal(after.blocks, before.blocks);
    assert.equal(before.blocks, 2);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('ledgerflow ledger add-org: the CLI verb adds an organization; too few admins, or a member already in, fail', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledgerflow-members-'));
  // fabric-shim rewrites this variable to its own name for the level ('fatal') in this
  // process, which a child would read as unknown (info); a child gets the peer's default.
  const runCli = (args: string[]) => runCliIn(args, { CORE_CHAINCODE_LOGGING_LEVEL: 'CRITICAL' });
  try {
    await (await startEmbeddedPeer({ dataDir, port: 0, orgs: ['uis', 'uio'], logger: silent })).stop();
    const tooFew = await runCli(['ledger', 'add-org', 'uib', '--data-dir', dataDir, '--signer', 'uis']);
    assert.notEqual(tooFew.code, 0);
    assert.match(tooFew.stderr, /config_update_refused.*sub-policies/);
    const added = await runCli(['ledger', 'add-org', 'uib', '--data-dir', dataDir, '--json']);
    assert.equal(added.code, 0, added.stderr);
    assert.deepEqual(added.json(), { sequence: 1, orgs: ['uib', 'uio', 'uis'], signedBy: ['uio', 'uis'] });
    const again = await runCli(['ledger', 'add-org', 'uib', '--data-dir', dataDir]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /add_org_failed.*already an organization/);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a CONFIG transaction submitted through the gateway: forged by a member it is invalid (BAD_CREATOR_SIGNATURE), replayed it is refused; membership stays', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledgerflow-members-'));
  const peer = await startEmbeddedPeer({ dataDir, port: 0, orgs: ['uis', 'uio'], logger: silent });
  const mallory = await client(peer, 'uio', 'mallory');
  try {
    await addOrg(dataDir, 'uib');
    const current = currentConfig(dataDir);
    const evil = await getOrIssueOrgIdentity(peer.mspDir, 'evil', 'admin');
    const id = await getOrIssueIdentity(peer.mspDir, 'uio', 'mallory');
    const key = createPrivateKey(id.keyPem);
    const member = { identity: serializeIdentity(id.mspId, id.certPem), sign: (m: Uint8Array) => signSync(key, m) };
    const forged = configTransaction(
      {
        ...current,
        sequence: current.sequence + 1,
        orgs: [...current.orgs, { org: 'evil', mspId: evil.mspId, caCertPem: evil.caCertPem, adminCertPems: [evil.certPem] }],
      },
      undefined,
      member,
    );
    // fabric-gateway prepares endorser transactions only, so the envelope goes to the Gateway
    // service's Submit as bytes; its fate is read back with qscc.
    const raw = new grpc.Client(peer.endpoint, grpc.credentials.createInsecure());
    const submit = async (envelopeBytes: Uint8Array): Promise<number> => {
      const envelope = common.Envelope.deserializeBinary(envelopeBytes);
      const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
      const txId = common.ChannelHeader.deserializeBinary(payload.getHeader()!.getChannelHeader_asU8()).getTxId();
      const request = new gatewayProtos.SubmitRequest();
      request.setTransactionId(txId);
      request.setChannelId('ledgerflow');
      request.setPreparedTransaction(envelope);
      const height = chainHeight(await qscc(mallory.gateway).evaluateTransaction('GetChainInfo', 'ledgerflow'));
      await new Promise<void>((resolve, reject) =>
        raw.makeUnaryRequest(
          '/gateway.Gateway/Submit',
          (r: gatewayProtos.SubmitRequest) => Buffer.from(r.serializeBinary()),
          (b: Buffer) => gatewayProtos.SubmitResponse.deserializeBinary(b),
          request,
          (err) => (err ? reject(err) : resolve()),
        ),
      );
      while (chainHeight(await qscc(mallory.gateway).evaluateTransaction('GetChainInfo', 'ledgerflow')) === height) await new Promise((r) => setTimeout(r, 20));
      const block = common.Block.deserializeBinary(await qscc(mallory.gateway).evaluateTransaction('GetBlockByNumber', 'ledgerflow', String(height)));
      return transactionsFilter(block)[0]!;
    };
    // The orderer's own config transaction of the last update, kept to be sent again.
    const height = chainHeight(await qscc(mallory.gateway).evaluateTransaction('GetChainInfo', 'ledgerflow'));
    const [replayed] = common.Block.deserializeBinary(await qscc(mallory.gateway).evaluateTransaction('GetBlockByNumber', 'ledgerflow', String(height - 1)))
      .getData()!
      .getDataList_asU8();
    assert.equal(await submit(forged), peerProtos.TxValidationCode.BAD_CREATOR_SIGNATURE);
    // Sent again: its creator is the orderer, no member of the channel's application
    // organizations, so the orderer's signature filter refuses it before any block (and were it
    // ordered, its update no longer applies to the configuration in force).
    await assert.rejects(submit(replayed!), /status=FORBIDDEN/);
    raw.close();
    assert.deepEqual(
      currentConfig(dataDir).orgs.map((o) => o.org),
      ['uib', 'uio', 'uis'],
    );
  } finally {
    mallory.close();
    await peer.stop();
  }
  try {
    assert.equal(verifyLedger(dataDir).ok, true);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
