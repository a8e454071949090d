import { randomBytes, X509Certificate } from 'node:crypto';
import { dirname } from 'node:path';
import { common, msp } from '@hyperledger/fabric-protos';
import { computeTxId } from './transaction';
import { encodeSignaturePolicy, orgPolicy, satisfied, type Signer } from './endorsementPolicy';

/**
 * The channel configuration, in Fabric's own protos (common/configtx.proto, msp_config.proto),
 * so a config block read with qscc GetBlockByNumber decodes with Fabric tools (configtxlator
 * proto_decode --type common.Block). The channel group holds an `Application` group with one
 * group per member organization (its MSP: root CA and admin certificates; policies Readers,
 * Writers and Endorsement `OR('<MSP>.member')`, Admins `OR('<MSP>.admin')`) and the channel
 * policies of a configtxgen profile (Readers/Writers ANY, Admins MAJORITY, Endorsement and
 * LifecycleEndorsement MAJORITY Endorsement); an `Orderer` group holds the embedded
 * orderer's organization (the peer's own, `Ledgerflow-peerMSP`), which signs config blocks.
 *
 * A config update here can only add organizations (`ledgerflow ledger add-org`): it must be
 * signed by admins of a MAJORITY of the current organizations, Fabric's default
 * `/Channel/Application/Admins` modification policy.
 */

export interface ChannelOrg {
  /** Short name (`uis`), the CA certificate's O. */
  org: string;
  mspId: string;
  caCertPem: string;
  adminCertPems: string[];
}

export interface ChannelConfig {
  channel: string;
  /** Config updates applied since genesis (the Application group's version). */
  sequence: number;
  orgs: ChannelOrg[];
  orderer: ChannelOrg;
}

/** Signs as one identity (serialized msp.SerializedIdentity and its key). */
export interface IdentitySigner {
  identity: Uint8Array;
  sign: (message: Uint8Array) => Uint8Array;
}

const ADMINS = 'Admins';

// The Timestamp message class fabric-protos builds its headers with (its own google-protobuf).
const { Timestamp } = require(
  require.resolve('google-protobuf/google/protobuf/timestamp_pb', {
    paths: [dirname(require.resolve('@hyperledger/fabric-protos'))],
  }),
) as { Timestamp: new () => { fromDate(d: Date): void } };

function implicitMeta(rule: 'ANY' | 'ALL' | 'MAJORITY', subPolicy: string): common.ConfigPolicy {
  const meta = new common.ImplicitMetaPolicy();
  meta.setRule(common.ImplicitMetaPolicy.Rule[rule]);
  meta.setSubPolicy(subPolicy);
  return configPolicy(common.Policy.PolicyType.IMPLICIT_META, meta.serializeBinary());
}

function signaturePolicy(mspId: string, role: 'member' | 'admin'): common.ConfigPolicy {
  return configPolicy(common.Policy.PolicyType.SIGNATURE, encodeSignaturePolicy(orgPolicy(mspId, role)).serializeBinary());
}

function configPolicy(type: number, value: Uint8Array): common.ConfigPolicy {
  const policy = new common.Policy();
  policy.setType(type);
  policy.setValue(value);
  const cp = new common.ConfigPolicy();
  cp.setPolicy(policy);
  cp.setModPolicy(ADMINS);
  return cp;
}

function configValue(bytes: Uint8Array): common.ConfigValue {
  const v = new common.ConfigValue();
  v.setValue(bytes);
  v.setModPolicy(ADMINS);
  return v;
}

function orgGroup(org: ChannelOrg): common.ConfigGroup {
  const crypto = new msp.FabricCryptoConfig();
  crypto.setSignatureHashFamily('SHA2');
  crypto.setIdentityIdentifierHashFunction('SHA256');
  const fabricMsp = new msp.FabricMSPConfig();
  fabricMsp.setName(org.mspId);
  fabricMsp.setRootCertsList([Buffer.from(org.caCertPem)]);
  fabricMsp.setAdminsList(org.adminCertPems.map((pem) => Buffer.from(pem)));
  fabricMsp.setCryptoConfig(crypto);
  const mspConfig = new msp.MSPConfig();
  mspConfig.setType(0); // FABRIC
  mspConfig.setConfig(fabricMsp.serializeBinary());
  const group = new common.ConfigGroup();
  group.getValuesMap().set('MSP', configValue(mspConfig.serializeBinary()));
  const policies = group.getPoliciesMap();
  policies.set('Readers', signaturePolicy(org.mspId, 'member'));
  policies.set('Writers', signaturePolicy(org.mspId, 'member'));
  policies.set('Endorsement', signaturePolicy(org.mspId, 'member'));
  policies.set(ADMINS, signaturePolicy(org.mspId, 'admin'));
  group.setModPolicy(ADMINS);
  return group;
}

function capabilities(name: string): common.ConfigValue {
  const caps = new common.Capabilities();
  caps.getCapabilitiesMap().set(name, new common.Capability());
  return configValue(caps.serializeBinary());
}

function applicationGroup(config: ChannelConfig): common.ConfigGroup {
  const application = new common.ConfigGroup();
  application.setVersion(config.sequence);
  for (const org of config.orgs) application.getGroupsMap().set(org.mspId, orgGroup(org));
  const policies = application.getPoliciesMap();
  policies.set('Readers', implicitMeta('ANY', 'Readers'));
  policies.set('Writers', implicitMeta('ANY', 'Writers'));
  policies.set(ADMINS, implicitMeta('MAJORITY', ADMINS));
  policies.set('Endorsement', implicitMeta('MAJORITY', 'Endorsement'));
  policies.set('LifecycleEndorsement', implicitMeta('MAJORITY', 'Endorsement'));
  application.getValuesMap().set('Capabilities', capabilities('V2_5'));
  application.setModPolicy(ADMINS);
  return application;
}

/** The whole configuration as Fabric's common.Config. */
export function encodeConfig(config: ChannelConfig): common.Config {
  const channelGroup = new common.ConfigGroup();
  channelGroup.getGroupsMap().set('Application', applicationGroup(config));
  const ordererGroup = new common.ConfigGroup();
  ordererGroup.getGroupsMap().set(config.orderer.mspId, orgGroup(config.orderer));
  ordererGroup.getPoliciesMap().set('Readers', implicitMeta('ANY', 'Readers'));
  ordererGroup.getPoliciesMap().set('Writers', implicitMeta('ANY', 'Writers'));
  ordererGroup.getPoliciesMap().set(ADMINS, implicitMeta('MAJORITY', ADMINS));
  ordererGroup.getPoliciesMap().set('BlockValidation', implicitMeta('ANY', 'Writers'));
  ordererGroup.setModPolicy(ADMINS);
  channelGroup.getGroupsMap().set('Orderer', ordererGroup);
  const hashing = new common.HashingAlgorithm();
  hashing.setName('SHA256');
  channelGroup.getValuesMap().set('HashingAlgorithm', configValue(hashing.serializeBinary()));
  const dataHashing = new common.BlockDataHashingStructure();
  dataHashing.setWidth(0xffffffff);
  channelGroup.getValuesMap().set('BlockDataHashingStructure', configValue(dataHashing.serializeBinary()));
  channelGroup.getValuesMap().set('Capabilities', capabilities('V2_0'));
  channelGroup.getPoliciesMap().set('Readers', implicitMeta('ANY', 'Readers'));
  channelGroup.getPoliciesMap().set('Writers', implicitMeta('ANY', 'Writers'));
  channelGroup.getPoliciesMap().set(ADMINS, implicitMeta('MAJORITY', ADMINS));
  channelGroup.setModPolicy(ADMINS);
  const encoded = new common.Config();
  encoded.setSequence(config.sequence);
  encoded.setChannelGroup(channelGroup);
  return encoded;
}

function readOrg(group: common.ConfigGroup): ChannelOrg {
  const value = group.getValuesMap().get('MSP');
  if (value === undefined) throw new Error('organization group without an MSP value');
  const fabricMsp = msp.FabricMSPConfig.deserializeBinary(msp.MSPConfig.deserializeBinary(value.getValue_asU8()).getConfig_asU8());
  const [root] = fabricMsp.getRootCertsList_asU8();
  if (root === undefined) throw new Error(`MSP ${fabricMsp.getName()} has no root certificate`);
  const caCertPem = Buffer.from(root).toString('utf8');
  const org = /(?:^|\n)O=([^\n]+)/.exec(new X509Certificate(caCertPem).subject)?.[1];
  if (org === undefined) throw new Error(`the root certificate of MSP ${fabricMsp.getName()} names no organization`);
  return { org, mspId: fabricMsp.getName(), caCertPem, adminCertPems: fabricMsp.getAdminsList_asU8().map((a) => Buffer.from(a).toString('utf8')) };
}

function groupsOf(group: common.ConfigGroup | undefined): common.ConfigGroup[] {
  const groups: common.ConfigGroup[] = [];
  group?.getGroupsMap().forEach((g: common.ConfigGroup) => groups.push(g));
  return groups;
}

/** Reads a configuration this module wrote (or any with the same groups). */
export function decodeConfig(channel: string, config: common.Config): ChannelConfig {
  const channelGroup = config.getChannelGroup();
  const application = channelGroup?.getGroupsMap().get('Application');
  const [orderer] = groupsOf(channelGroup?.getGroupsMap().get('Orderer'));
  if (application === undefined || orderer === undefined) throw new Error('channel configuration lacks the Application or Orderer group');
  const orgs = groupsOf(application).map(readOrg);
  orgs.sort((a, b) => (a.mspId < b.mspId ? -1 : a.mspId > b.mspId ? 1 : 0));
  return { channel, sequence: config.getSequence(), orgs, orderer: readOrg(orderer) };
}

function header(type: number, channel: string, creator: Uint8Array): { header: common.Header; txId: string } {
  const nonce = randomBytes(24);
  const txId = computeTxId(nonce, creator);
  const ch = new common.ChannelHeader();
  ch.setType(type);
  ch.setChannelId(channel);
  ch.setTxId(txId);
  const ts = new Timestamp();
  ts.fromDate(new Date());
  ch.setTimestamp(ts as never);
  const sh = new common.SignatureHeader();
  sh.setCreator(creator);
  sh.setNonce(nonce);
  const h = new common.Header();
  h.setChannelHeader(ch.serializeBinary());
  h.setSignatureHeader(sh.serializeBinary());
  return { header: h, txId };
}

function signedEnvelope(h: common.Header, data: Uint8Array, signer: IdentitySigner): common.Envelope {
  const payload = new common.Payload();
  payload.setHeader(h);
  payload.setData(data);
  const bytes = payload.serializeBinary();
  const envelope = new common.Envelope();
  envelope.setPayload(bytes);
  envelope.setSignature(signer.sign(bytes));
  return envelope;
}

/** A CONFIG transaction (the whole new configuration and the update that led to it), signed
 * by the orderer, as the only transaction of a config block. */
export function configTransaction(config: ChannelConfig, lastUpdate: common.Envelope | undefined, orderer: IdentitySigner): Uint8Array {
  const configEnvelope = new common.ConfigEnvelope();
  configEnvelope.setConfig(encodeConfig(config));
  if (lastUpdate !== undefined) configEnvelope.setLastUpdate(lastUpdate);
  const { header: h } = header(common.HeaderType.CONFIG, config.channel, orderer.identity);
  return signedEnvelope(h, configEnvelope.serializeBinary(), orderer).serializeBinary();
}

export interface DecodedConfigTx {
  config: ChannelConfig;
  creator: Uint8Array;
  payloadBytes: Uint8Array;
  signature: Uint8Array;
  txId: string;
  lastUpdate?: common.Envelope;
}

/** The configuration carried by a CONFIG envelope; undefined for any other transaction type. */
export function decodeConfigTransaction(envelopeBytes: Uint8Array): DecodedConfigTx | undefined {
  let envelope: common.Envelope;
  let payload: common.Payload;
  let ch: common.ChannelHeader;
  try {
    envelope = common.Envelope.deserializeBinary(envelopeBytes);
    payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
    ch = common.ChannelHeader.deserializeBinary(payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array(0));
  } catch {
    return undefined;
  }
  if (ch.getType() !== common.HeaderType.CONFIG) return undefined;
  const sh = common.SignatureHeader.deserializeBinary(payload.getHeader()?.getSignatureHeader_asU8() ?? new Uint8Array(0));
  const configEnvelope = common.ConfigEnvelope.deserializeBinary(payload.getData_asU8());
  const config = configEnvelope.getConfig();
  if (config === undefined) throw new Error('config transaction without a configuration');
  const lastUpdate = configEnvelope.getLastUpdate();
  return {
    config: decodeConfig(ch.getChannelId(), config),
    creator: sh.getCreator_asU8(),
    payloadBytes: envelope.getPayload_asU8(),
    signature: envelope.getSignature_asU8(),
    txId: ch.getTxId(),
    ...(lastUpdate === undefined ? {} : { lastUpdate }),
  };
}

/** The ConfigUpdate that adds `orgs` to the Application group (read set: the group at its
 * current version; write set: the group at the next version with every organization). */
export function addOrgsUpdate(current: ChannelConfig, orgs: ChannelOrg[]): Uint8Array {
  const readApplication = new common.ConfigGroup();
  readApplication.setVersion(current.sequence);
  const readSet = new common.ConfigGroup();
  readSet.getGroupsMap().set('Application', readApplication);
  const next: ChannelConfig = { ...current, sequence: current.sequence + 1, orgs: [...current.orgs, ...orgs] };
  const writeSet = new common.ConfigGroup();
  writeSet.getGroupsMap().set('Application', applicationGroup(next));
  const update = new common.ConfigUpdate();
  update.setChannelId(current.channel);
  update.setReadSet(readSet);
  update.setWriteSet(writeSet);
  return update.serializeBinary();
}

/** An admin's signature on a config update: over signature_header || config_update. */
export function signConfigUpdate(updateBytes: Uint8Array, admin: IdentitySigner): common.ConfigSignature {
  const sh = new common.SignatureHeader();
  sh.setCreator(admin.identity);
  sh.setNonce(randomBytes(24));
  const shBytes = sh.serializeBinary();
  const signature = new common.ConfigSignature();
  signature.setSignatureHeader(shBytes);
  signature.setSignature(admin.sign(Buffer.concat([shBytes, updateBytes])));
  return signature;
}

/** The CONFIG_UPDATE envelope a client broadcasts to the orderer. */
export function configUpdateEnvelope(
  channel: string,
  updateBytes: Uint8Array,
  signatures: common.ConfigSignature[],
  submitter: IdentitySigner,
): common.Envelope {
  const updateEnvelope = new common.ConfigUpdateEnvelope();
  updateEnvelope.setConfigUpdate(updateBytes);
  updateEnvelope.setSignaturesList(signatures);
  const { header: h } = header(common.HeaderType.CONFIG_UPDATE, channel, submitter.identity);
  return signedEnvelope(h, updateEnvelope.serializeBinary(), submitter);
}

/** Resolves an identity and checks its signature; what the channel's membership answers. */
export type SignatureCheck = (creator: Uint8Array, message: Uint8Array, signature: Uint8Array) => Signer | Error;

/**
 * The configuration a CONFIG_UPDATE envelope leads to from `current`, or an Error saying why
 * it is refused: it must name this channel, build on the current version, only add
 * organizations (with a root CA and at least one admin each), and carry valid signatures of
 * admins of a MAJORITY of the current organizations.
 */
export function applyConfigUpdate(current: ChannelConfig, envelope: common.Envelope, check: SignatureCheck): ChannelConfig | Error {
  let update: common.ConfigUpdate;
  let updateBytes: Uint8Array;
  let signatures: common.ConfigSignature[];
  try {
    const payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
    const ch = common.ChannelHeader.deserializeBinary(payload.getHeader()?.getChannelHeader_asU8() ?? new Uint8Array(0));
    if (ch.getType() !== common.HeaderType.CONFIG_UPDATE) return new Error('not a config update');
    const updateEnvelope = common.ConfigUpdateEnvelope.deserializeBinary(payload.getData_asU8());
    updateBytes = updateEnvelope.getConfigUpdate_asU8();
    update = common.ConfigUpdate.deserializeBinary(updateBytes);
    signatures = updateEnvelope.getSignaturesList();
  } catch {
    return new Error('malformed config update');
  }
  if (update.getChannelId() !== current.channel) return new Error(`config update is for channel ${update.getChannelId()}, not ${current.channel}`);
  const readVersion = update.getReadSet()?.getGroupsMap().get('Application')?.getVersion();
  if (readVersion !== current.sequence)
    return new Error(`config update reads Application version ${readVersion ?? 'none'}, the channel is at ${current.sequence}`);
  const written = update.getWriteSet()?.getGroupsMap().get('Application');
  if (written === undefined || written.getVersion() !== current.sequence + 1) return new Error('config update must write the next Application version');
  let orgs: ChannelOrg[];
  try {
    orgs = groupsOf(written).map(readOrg);
  } catch (err) {
    return new Error(`config update has a bad organization: ${err instanceof Error ? err.message : String(err)}`);
  }
  const known = new Map(current.orgs.map((o) => [o.mspId, o]));
  for (const org of current.orgs) {
    const kept = orgs.find((o) => o.mspId === org.mspId);
    if (kept === undefined || kept.caCertPem !== org.caCertPem)
      return new Error(`config update removes or changes ${org.mspId}: only adding organizations is supported`);
  }
  const added = orgs.filter((o) => !known.has(o.mspId));
  if (added.length === 0) return new Error('config update adds no organization');
  for (const org of added) if (org.adminCertPems.length === 0) return new Error(`${org.mspId} lists no admin`);
  const signers: Signer[] = [];
  for (const s of signatures) {
    let creator: Uint8Array;
    try {
      creator = common.SignatureHeader.deserializeBinary(s.getSignatureHeader_asU8()).getCreator_asU8();
    } catch {
      return new Error('malformed config signature');
    }
    const signer = check(creator, Buffer.concat([s.getSignatureHeader_asU8(), updateBytes]), s.getSignature_asU8());
    if (!(signer instanceof Error)) signers.push(signer);
  }
  const admins = { kind: 'implicit', rule: 'MAJORITY', subPolicy: ADMINS } as const;
  const adminSigners = signers.filter((s) => s.isAdmin);
  if (
    !satisfied(
      admins,
      adminSigners,
      current.orgs.map((o) => o.mspId),
    )
  ) {
    return new Error(
      `implicit policy evaluation failed - ${new Set(adminSigners.map((s) => s.mspId)).size} sub-policies were satisfied, but this policy requires ${Math.floor(current.orgs.length / 2) + 1} of the '${ADMINS}' sub-policies to be satisfied`,
    );
  }
  return { ...current, sequence: current.sequence + 1, orgs: [...current.orgs, ...added].sort((a, b) => (a.mspId < b.mspId ? -1 : a.mspId > b.mspId ? 1 : 0)) };
}
