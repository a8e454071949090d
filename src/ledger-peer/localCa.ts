// @peculiar/x509's dependency injection needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { createHash, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { mspIdFor, ORG_NAME, USER_NAME } from '../core/names';

/**
 * The embedded ledger's certificate authorities: one ECDSA P-256 CA per organization under
 * `<dataDir>/ledger/msp/<org>/ca`, and user identities it issues on demand under
 * `<dataDir>/ledger/msp/<org>/users/<user>` (subject `CN=<user>,O=<org>`). Private keys are
 * written mode 0600. Creation is atomic (a directory renamed into place), so several hosts
 * sharing one data dir agree on one CA and one certificate per user.
 */

x509.cryptoProvider.set(webcrypto as never);
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;

export interface IdentityFiles {
  mspId: string;
  certPem: string;
  keyPem: string;
  /** The issuing CA's certificate, for a verifier. */
  caCertPem: string;
}

export function mspRoot(dataDir: string): string {
  return join(dataDir, 'ledger', 'msp');
}

/** The embedded peer's own CA and node identity (it signs endorsements). */
export const PEER_ORG = 'ledgerflow-peer';

export function peerMspRoot(dataDir: string): string {
  return join(dataDir, 'ledger', 'node');
}

function checkName(kind: 'organization' | 'user', name: string): void {
  if (!(kind === 'organization' ? ORG_NAME : USER_NAME).test(name)) throw new Error(`invalid ${kind} name ${JSON.stringify(name)}`);
}

/** Where Fabric CA puts enrollment attributes (`hf.*` and custom ones such as roles): a
 * certificate extension whose value is the JSON `{"attrs":{name:value}}`, read by
 * fabric-shim's ClientIdentity (getAttributeValue / assertAttributeValue). */
export const FABRIC_ATTRIBUTES_OID = '1.2.3.4.5.6.7.8.1';

/** The attributes that make an identity the platform (the chaincode's roles.ts checks them). */
export const PLATFORM_ATTRIBUTES: Readonly<Record<string, string>> = { 'ledgerflow.role': 'platform' };

export function fabricAttributesExtension(attributes: Readonly<Record<string, string>>): x509.Extension {
  return new x509.Extension(FABRIC_ATTRIBUTES_OID, false, Buffer.from(JSON.stringify({ attrs: attributes }), 'utf8'));
}

/** The attributes a certificate carries in Fabric CA's extension ({} when none). */
export function certificateAttributes(certPem: string): Record<string, string> {
  const extension = new x509.X509Certificate(certPem).getExtension(FABRIC_ATTRIBUTES_OID);
  if (extension === null) return {};
  const parsed = JSON.parse(Buffer.from(extension.value).toString('utf8')) as { attrs?: Record<string, string> };
  return parsed.attrs ?? {};
}

/** Gets (or, on first use, issues) the identity of `user` in `org`. With `attributes`, a
 * stored certificate that lacks them (issued before the role existed) is re-issued. */
export async function getOrIssueIdentity(root: string, org: string, user: string, attributes?: Readonly<Record<string, string>>): Promise<IdentityFiles> {
  checkName('organization', org);
  checkName('user', user);
  return identityIn(root, org, join('users', user), user, attributes);
}

/**
 * An organization's own identities, kept apart from its users: `peer` is the endorsing
 * identity the embedded peer signs endorsements with for that organization (`CN=peer0.<org>`,
 * `<org>/peers/peer0`), `admin` its administrator (`CN=Admin@<org>`, `<org>/admins/admin`),
 * listed as the organization's admin in the channel configuration and signing its config
 * updates. The local CA issues both, as cryptogen does for a test network.
 */
export async function getOrIssueOrgIdentity(root: string, org: string, kind: 'peer' | 'admin'): Promise<IdentityFiles> {
  checkName('organization', org);
  return kind === 'peer' ? identityIn(root, org, join('peers', 'peer0'), `peer0.${org}`) : identityIn(root, org, join('admins', 'admin'), `Admin@${org}`);
}

async function identityIn(root: string, org: string, relativeDir: string, cn: string, attributes?: Readonly<Record<string, string>>): Promise<IdentityFiles> {
  const orgDir = join(root, org);
  const ca = await getOrCreateCa(orgDir, org);
  const userDir = join(orgDir, relativeDir);
  const certFile = join(userDir, 'cert.pem');
  const stale = attributes !== undefined && existsSync(certFile) && !hasAttributes(readFileSync(certFile, 'utf8'), attributes);
  if (!existsSync(certFile) || stale) {
    const files = await issue(ca, `CN=${cn},O=${org}`, [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      ...(attributes === undefined ? [] : [fabricAttributesExtension(attributes)]),
    ]);
    if (stale) replaceAtomically(userDir, files);
    else await writeAtomically(userDir, files);
  }
  return {
    mspId: mspIdFor(org),
    certPem: readFileSync(join(userDir, 'cert.pem'), 'utf8'),
    keyPem: readFileSync(join(userDir, 'key.pem'), 'utf8'),
    caCertPem: ca.cert.toString('pem'),
  };
}

/** A TLS server certificate for the peer, from its organization's CA (the TLS root clients
 * trust), valid for `hosts` (DNS names or IP addresses). Re-issued when the hosts change. */
export async function getOrIssueTlsServerCert(root: string, org: string, hosts: string[]): Promise<{ certPem: string; keyPem: string; caCertPem: string }> {
  checkName('organization', org);
  const orgDir = join(root, org);
  const ca = await getOrCreateCa(orgDir, org);
  const tlsDir = join(orgDir, 'tls', createHash('sha256').update(hosts.join(',')).digest('hex').slice(0, 16));
  if (!existsSync(join(tlsDir, 'cert.pem'))) {
    await writeAtomically(
      tlsDir,
      await issue(ca, `CN=${hosts[0] ?? 'localhost'},O=${org}`, [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(hosts.map((h) => (isIP(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h }))),
      ]),
    );
  }
  return {
    certPem: readFileSync(join(tlsDir, 'cert.pem'), 'utf8'),
    keyPem: readFileSync(join(tlsDir, 'key.pem'), 'utf8'),
    caCertPem: ca.cert.toString('pem'),
  };
}

async function issue(ca: { cert: x509.X509Certificate; key: CryptoKey }, subject: string, extensions: x509.Extension[]): Promise<Record<string, string>> {
  const keys = await newKeyPair();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomBytes(16)
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    subject,
    issuer: ca.cert.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + TEN_YEARS_MS),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    extensions,
  });
  return { 'cert.pem': cert.toString('pem'), 'key.pem': await keyPem(keys.privateKey) };
}

/** The CA certificates present under `root`, by organization. */
export function listCaCerts(root: string): { org: string; caCertPem: string }[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && ORG_NAME.test(e.name) && existsSync(join(root, e.name, 'ca', 'cert.pem')))
    .map((e) => ({ org: e.name, caCertPem: readFileSync(join(root, e.name, 'ca', 'cert.pem'), 'utf8') }));
}

async function getOrCreateCa(orgDir: string, org: string): Promise<{ cert: x509.X509Certificate; key: CryptoKey }> {
  const caDir = join(orgDir, 'ca');
  if (!existsSync(join(caDir, 'cert.pem'))) {
    const keys = await newKeyPair();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: `CN=ca.${org},O=${org}`,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + TEN_YEARS_MS),
      signingAlgorithm: ALG,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      ],
    });
    await writeAtomically(caDir, { 'cert.pem': cert.toString('pem'), 'key.pem': await keyPem(keys.privateKey) });
  }
  const cert = new x509.X509Certificate(readFileSync(join(caDir, 'cert.pem'), 'utf8'));
  const der = createPrivateKey(readFileSync(join(caDir, 'key.pem'), 'utf8')).export({ format: 'der', type: 'pkcs8' });
  const key = await webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  return { cert, key };
}

async function newKeyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }).toString();
}

function hasAttributes(certPem: string, attributes: Readonly<Record<string, string>>): boolean {
  const present = certificateAttributes(certPem);
  return Object.entries(attributes).every(([name, value]) => present[name] === value);
}

/** Replaces a data dir's identity issued before its role existed (once, on upgrade): the
 * certificate and key are swapped as one directory, so they never mismatch. */
function replaceAtomically(dir: string, files: Record<string, string>): void {
  const tmp = writeTemp(dir, files);
  const old = `${dir}.old-${randomBytes(6).toString('hex')}`;
  renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}

function writeTemp(dir: string, files: Record<string, string>): string {
  const tmp = `${dir}.tmp-${randomBytes(6).toString('hex')}`;
  mkdirSync(tmp, { recursive: true, mode: 0o700 });
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(tmp, name), content, { mode: name.startsWith('key') ? 0o600 : 0o644, flag: 'wx' });
  }
  return tmp;
}

/** Writes files into a fresh directory and renames it into place; when another process won
 * the race the rename fails and its files are kept. */
async function writeAtomically(dir: string, files: Record<string, string>): Promise<void> {
  const tmp = writeTemp(dir, files);
  try {
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
  }
}
