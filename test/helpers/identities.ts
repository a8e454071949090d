// @peculiar/x509's dependency injection needs the Reflect metadata polyfill loaded first.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { fabricAttributesExtension, PLATFORM_ATTRIBUTES } from '../../src/ledger-peer/localCa';

x509.cryptoProvider.set(webcrypto as never);
type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** A client identity as a Fabric MSP would issue it: an org CA signs the user's certificate. */
export interface TestIdentity {
  user: string;
  org: string;
  mspId: string;
  certPem: string;
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const VALIDITY = { notBefore: new Date('2025-01-01T00:00:00Z'), notAfter: new Date('2035-01-01T00:00:00Z') };
const cas = new Map<string, Promise<{ cert: x509.X509Certificate; keys: CryptoKeyPair }>>();

/** `UisMSP` for `uis`, the chaincode's derivation run backwards. */
export const mspIdOf = (org: string): string => org.charAt(0).toUpperCase() + org.slice(1) + 'MSP';

function orgCa(org: string) {
  let ca = cas.get(org);
  if (ca === undefined) {
    ca = (async () => {
      const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
      const cert = await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: '01',
        name: `CN=ca.${org},O=${org}`,
        keys,
        signingAlgorithm: ALGORITHM,
        extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
        ...VALIDITY,
      });
      return { cert, keys };
    })();
    cas.set(org, ca);
  }
  return ca;
}

/** An ECDSA P-256 certificate with subject `CN=<user>,O=<org>`, issued by the org's CA.
 * `subject` overrides the subject DN (to test crafted names); `attributes` are Fabric CA
 * attributes (roles). */
export async function createIdentity(user: string, org: string, subject?: string, attributes?: Readonly<Record<string, string>>): Promise<TestIdentity> {
  const ca = await orgCa(org);
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: Buffer.from(`${org}:${user}`).toString('hex').slice(0, 30),
    subject: subject ?? `CN=${user},O=${org}`,
    issuer: ca.cert.subject,
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: ALGORITHM,
    ...VALIDITY,
    ...(attributes === undefined ? {} : { extensions: [fabricAttributesExtension(attributes)] }),
  });
  return { user, org, mspId: mspIdOf(org), certPem: cert.toString('pem') };
}

/** The platform identity as the local CA issues it: a uis user with `ledgerflow.role=platform`. */
export const createPlatformIdentity = (): Promise<TestIdentity> => createIdentity('ledgerflow', 'uis', undefined, PLATFORM_ATTRIBUTES);
