import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { connect, hash, type Gateway } from '@hyperledger/fabric-gateway';
import { common, ledger, msp, peer } from '@hyperledger/fabric-protos';
import { Contract, type Context } from 'fabric-contract-api';
import { newEcdsaSigner } from '../../../src/adapters/ledger/ecdsa';
import { getOrIssueIdentity } from '../../../src/ledger-peer/localCa';
import { DEFAULT_CHAINCODE, startEmbeddedPeer, type EmbeddedPeer } from '../../../src/ledger-peer/peer';
import { loadChaincode } from '../../../src/ledger-peer/simulator';
import { contracts } from '@ledgerflow/chaincode';
import { createLogger } from '../../../src/observability/logger';
import { forger } from './forgery';

/**
 * Endorsement as on a Fabric 2.5 channel, seen only through @hyperledger/fabric-gateway and
 * qscc: one endorser per member organization, the chaincode's policy (MAJORITY Endorsement by
 * default, settable) collected by the gateway, key-level (state-based) endorsement binding a
 * dataset's keys to its owner, and `getMspID()` answering the endorsing organization.
 */

const silent = createLogger({ level: 'silent' });
const ORGS = ['uis', 'uio', 'uib'];
const VALID = peer.TxValidationCode.VALID;
const ENDORSEMENT_POLICY_FAILURE = peer.TxValidationCode.ENDORSEMENT_POLICY_FAILURE;

/** A probe contract that asks which organization endorses it. */
class Probe extends Contract {
  constructor() {
    super('probe');
  }
  async Who(ctx: Context): Promise<string> {
    return ctx.stub.getMspID();
  }
  async Asks(ctx: Context): Promise<string> {
    ctx.stub.getMspID();
    await ctx.stub.putState('same', Buffer.from('for everyone'));
    return '';
  }
  async Differs(ctx: Context): Promise<string> {
    await ctx.stub.putState('who', Buffer.from(ctx.stub.getMspID()));
    return '';
  }
  async Private(ctx: Context): Promise<string> {
    await ctx.stub.putPrivateData('collection', 'k', Buffer.from('x'));
    return '';
  }
}

interface Started {
  dataDir: string;
  peer: EmbeddedPeer;
  client(org: string, user: string): Promise<Gateway>;
  close(): Promise<void>;
}

async function start(options: { endorsementPolicy?: string } = {}): Promise<Started> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledgerflow-endorse-'));
  const peer = await startEmbeddedPeer({
    dataDir,
    port: 0,
    orgs: ORGS,
    logger: silent,
    chaincodes: [loadChaincode(DEFAULT_CHAINCODE, contracts), loadChaincode('probe', [Probe])],
    ...options,
  });
  const opened: { gateway: Gateway; client: grpc.Client }[] = [];
  return {
    dataDir,
    peer,
    async client(org, user) {
      const id = await getOrIssueIdentity(peer.mspDir, org, user);
      const client = new grpc.Client(peer.endpoint, grpc.credentials.createInsecure());
      const gateway = connect({
        client,
        identity: { mspId: id.mspId, credentials: Buffer.from(id.certPem) },
        signer: newEcdsaSigner(id.keyPem),
        hash: hash.none,
      });
      opened.push({ gateway, client });
      return gateway;
    },
    async close() {
      for (const o of opened) {
        o.gateway.close();
        o.client.close();
      }
      await peer.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The committed transaction as qscc GetTransactionByID returns it: its endorsers' MSP ids and
 * the key-level policies it set. */
async function committed(gateway: Gateway, txId: string): Promise<{ code: number; endorsers: string[]; policies: Map<string, string[]> }> {
  const bytes = await gateway.getNetwork('ledgerflow').getContract('qscc').evaluateTransaction('GetTransactionByID', 'ledgerflow', txId);
  const processed = peer.ProcessedTransaction.deserializeBinary(bytes);
  const payload = common.Payload.deserializeBinary(processed.getTransactionenvelope()!.getPayload_asU8());
  const action = peer.Transaction.deserializeBinary(payload.getData_asU8()).getActionsList()[0]!;
  const endorsed = peer.ChaincodeActionPayload.deserializeBinary(action.getPayload_asU8()).getAction()!;
  const endorsers = endorsed.getEndorsementsList().map((e) => msp.SerializedIdentity.deserializeBinary(e.getEndorser_asU8()).getMspid());
  const prp = peer.ProposalResponsePayload.deserializeBinary(endorsed.getProposalResponsePayload_asU8());
  const results = peer.ChaincodeAction.deserializeBinary(prp.getExtension_asU8()).getResults_asU8();
  const policies = new Map<string, string[]>();
  for (const ns of ledger.rwset.TxReadWriteSet.deserializeBinary(results).getNsRwsetList()) {
    for (const m of ledger.rwset.kvrwset.KVRWSet.deserializeBinary(ns.getRwset_asU8()).getMetadataWritesList()) {
      const entry = m.getEntriesList().find((e) => e.getName() === 'VALIDATION_PARAMETER');
      if (entry === undefined) continue;
      const envelope = common.SignaturePolicyEnvelope.deserializeBinary(entry.getValue_asU8());
      policies.set(
        m.getKey(),
        envelope.getIdentitiesList().map((p) => msp.MSPRole.deserializeBinary(p.getPrincipal_asU8()).getMspIdentifier()),
      );
    }
  }
  return { code: processed.getValidationcode(), endorsers: endorsers.sort(), policies };
}

const dataset = (id: string) =>
  JSON.stringify({
    id,
    name: 'shared',
    description: '',
    policy: { leaseTtlSeconds: 60, maxLeaseTtlSeconds: 3600 },
    storageKind: 'local',
    sealedLocation: 'c2VhbGVk',
  });

test('MAJORITY Endorsement: the gateway collects endorsements of a majority of organizations, the client org first; a dataset key is bound to its owner', async () => {
  const s = await start();
  try {
    const alice = await s.client('uis', 'alice');
    const id = `ds-${process.pid}-majority`;
    const registered = await alice
      .getNetwork('ledgerflow')
      .getContract('ledgerflow')
      .newProposal('RegisterDataset', { arguments: [dataset(id)] })
      .endorse();
    const status = await (await registered.submit()).getStatus();
    assert.equal(status.code, VALID);
    const tx = await committed(alice, registered.getTransactionId());
    // 2 of 3 organizations: the client's own and one more; not all three.
    assert.equal(tx.endorsers.length, 2);
    assert.ok(tx.endorsers.includes('UisMSP'));
    assert.deepEqual(tx.policies.get(`dataset:${id}`), ['UisMSP']);

    // Another organization's lease: its own endorser first, still a majority.
    const bob = await s.client('uio', 'bob');
    const lease = await bob
      .getNetwork('ledgerflow')
      .getContract('ledgerflow')
      .newProposal('TakeLease', { arguments: [id, '60'] })
      .endorse();
    assert.equal((await (await lease.submit()).getStatus()).code, VALID);
    const leased = await committed(bob, lease.getTransactionId());
    assert.equal(leased.endorsers.length, 2);
    assert.ok(leased.endorsers.includes('UioMSP'));
  } finally {
    await s.close();
  }
});

test("key-level endorsement: a majority of other organizations cannot change an owner's dataset without the owner's endorsement", async () => {
  const s = await start();
  try {
    const alice = await s.client('uis', 'alice');
    const id = `ds-${process.pid}-sbe`;
    await alice.getNetwork('ledgerflow').getContract('ledgerflow').submitTransaction('RegisterDataset', dataset(id));
    const bob = await forger(s.peer.endpoint, s.peer.mspDir, 'uio', 'bob');
    try {
      const stolen = Buffer.from(JSON.stringify({ id, owner: { org: 'uio', mspId: 'UioMSP', user: 'bob' } }));
      // uio and uib together are a majority (the chaincode's policy), but the key is uis's.
      assert.equal(
        await bob.submit(['uio', 'uib'], 'UpdateDataset', [id, '{}'], { writes: [{ key: `dataset:${id}`, value: stolen }] }),
        ENDORSEMENT_POLICY_FAILURE,
      );
      // Nor can they lift the owner's policy from the key.
      assert.equal(
        await bob.submit(['uio', 'uib'], 'UpdateDataset', [id, '{}'], { metadataWrites: [{ key: `dataset:${id}`, validationParameter: null }] }),
        ENDORSEMENT_POLICY_FAILURE,
      );
      // The same majority may write a key no organization owns: the chaincode's policy holds.
      assert.equal(await bob.submit(['uio', 'uib'], 'TakeLease', [id, '60'], { writes: [{ key: 'unowned', value: Buffer.from('x') }] }), VALID);
      // One organization alone is no majority.
      assert.equal(await bob.submit(['uio'], 'TakeLease', [id, '60'], { writes: [{ key: 'unowned', value: Buffer.from('y') }] }), ENDORSEMENT_POLICY_FAILURE);
      // With the owner's endorsement (and a majority) the write is valid, as the owner's peer would only endorse its own chaincode's result.
      assert.equal(await bob.submit(['uis', 'uio'], 'UpdateDataset', [id, '{}'], { writes: [{ key: `dataset:${id}`, value: stolen }] }), VALID);
    } finally {
      bob.close();
    }
  } finally {
    await s.close();
  }
});

test('the endorsement policy is settable: ALL Endorsement needs every organization, a signature policy names them', async () => {
  for (const [policy, expected] of [
    ['ALL Endorsement', ['UibMSP', 'UioMSP', 'UisMSP']],
    ["OR('UibMSP.member')", ['UibMSP']],
  ] as const) {
    const s = await start({ endorsementPolicy: policy });
    try {
      const alice = await s.client('uis', 'alice');
      const proposal = alice
        .getNetwork('ledgerflow')
        .getContract('ledgerflow')
        .newProposal('RegisterDataset', { arguments: [dataset(`ds-${process.pid}-${expected.length}`)] });
      const endorsed = await proposal.endorse();
      assert.equal((await (await endorsed.submit()).getStatus()).code, VALID);
      // A new key has no key-level policy yet (the one this transaction sets applies from the
      // next), so only the chaincode's policy counts, as on Fabric.
      assert.deepEqual((await committed(alice, endorsed.getTransactionId())).endorsers, expected, policy);
    } finally {
      await s.close();
    }
  }
});

test('getMspID() answers the endorsing organization; endorsers that disagree abort; private data stays unsupported', async () => {
  const s = await start();
  try {
    const bob = await s.client('uio', 'bob');
    const probe = bob.getNetwork('ledgerflow').getContract('probe');
    assert.equal(Buffer.from(await probe.evaluateTransaction('Who')).toString(), 'UioMSP');
    // Each endorser runs a chaincode that asks; the same result from all is endorsed.
    await probe.submitTransaction('Asks');
    await assert.rejects(probe.submitTransaction('Differs'), (err: Error) => /do not match/.test(err.message) || /do not match/.test(JSON.stringify(err)));
    await assert.rejects(probe.submitTransaction('Private'), (err: unknown) =>
      /private data is not supported by the embedded peer/.test(JSON.stringify((err as { details?: unknown }).details) + String(err)),
    );
  } finally {
    await s.close();
  }
});
