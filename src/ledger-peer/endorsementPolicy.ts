import { common, msp } from '@hyperledger/fabric-protos';

/**
 * Endorsement policies as a Fabric 2.5 peer evaluates them (common/policies, cauthdsl):
 * - a signature policy (`common.SignaturePolicyEnvelope`: principals and an n-out-of rule
 *   tree), as written with Fabric's policy language (`OR('UisMSP.member', ...)`, `AND`,
 *   `OutOf(n, ...)`) and as key-level validation parameters (fabric-shim's
 *   KeyEndorsementPolicy) carry them;
 * - an implicit meta policy over the channel's organizations (`MAJORITY Endorsement`, the
 *   default of a chaincode definition), each organization's `Endorsement` policy being
 *   `OR('<MSP>.member')` in the embedded channel.
 * Principals are roles: `member` (any identity of the MSP) and `admin` (an identity listed
 * as the organization's admin in the channel configuration). The embedded channel does not
 * enable NodeOUs, so, as on Fabric without them, `peer` and `client` principals are never
 * satisfied.
 */

/** An endorsement's identity, as the channel's membership resolved it. */
export interface Signer {
  mspId: string;
  isAdmin: boolean;
}

type Principal = { mspId: string; role: 'member' | 'admin' | 'peer' | 'client' | 'orderer' };
type Rule = { signedBy: number } | { n: number; rules: Rule[] };

export type EndorsementPolicy =
  { kind: 'signature'; principals: Principal[]; rule: Rule } | { kind: 'implicit'; rule: 'ANY' | 'ALL' | 'MAJORITY'; subPolicy: string };

export const DEFAULT_ENDORSEMENT_POLICY = 'MAJORITY Endorsement';

const ROLE_BY_NAME = { member: 0, admin: 1, client: 2, peer: 3, orderer: 4 } as const;
const ROLE_NAMES = ['member', 'admin', 'client', 'peer', 'orderer'] as const;

/** Parses `MAJORITY Endorsement` / `ANY Endorsement` / `ALL Endorsement`, or a signature
 * policy in Fabric's language: `OR('AMSP.member', AND('BMSP.member', 'CMSP.admin'))`,
 * `OutOf(2, 'AMSP.member', 'BMSP.member', 'CMSP.member')`. */
export function parseEndorsementPolicy(text: string): EndorsementPolicy {
  const implicit = /^\s*(ANY|ALL|MAJORITY)\s+([A-Za-z0-9_-]+)\s*$/.exec(text);
  if (implicit !== null) return { kind: 'implicit', rule: implicit[1] as 'ANY' | 'ALL' | 'MAJORITY', subPolicy: implicit[2]! };
  const principals: Principal[] = [];
  const tokens = text.match(/'[^']*'|"[^"]*"|[A-Za-z]+|\d+|[(),]/g) ?? [];
  let at = 0;
  const fail = (why: string): never => {
    throw new Error(`endorsement policy ${JSON.stringify(text)}: ${why}`);
  };
  const next = () => tokens[at++] ?? fail('unexpected end');
  const expect = (t: string) => {
    if (next() !== t) fail(`expected ${t}`);
  };
  const expr = (): Rule => {
    const token = next();
    if (/^['"]/.test(token)) {
      const m = /^['"]([^.'"]+)\.(member|admin|client|peer|orderer)['"]$/.exec(token);
      if (m === null) fail(`bad principal ${token} (write 'MSPID.member')`);
      principals.push({ mspId: m![1]!, role: m![2] as Principal['role'] });
      return { signedBy: principals.length - 1 };
    }
    const op = token.toUpperCase();
    if (op !== 'OR' && op !== 'AND' && op !== 'OUTOF') fail(`unknown operator ${token}`);
    expect('(');
    let n = -1;
    if (op === 'OUTOF') {
      n = Number(next());
      if (!Number.isInteger(n) || n < 0) fail('OutOf needs a count');
      expect(',');
    }
    const rules = [expr()];
    for (let t = next(); t !== ')'; t = next()) {
      if (t !== ',') fail('expected , or )');
      rules.push(expr());
    }
    return { n: op === 'OR' ? 1 : op === 'AND' ? rules.length : n, rules };
  };
  const rule = expr();
  if (at !== tokens.length) fail('trailing text');
  return { kind: 'signature', principals, rule };
}

// A validation parameter is the same few bytes for every key of one owner, decoded at each
// endorsement and each validation of a transaction writing such a key.
const DECODED_LIMIT = 1024;
const decoded = new Map<string, EndorsementPolicy>();

/** The marshalled SignaturePolicyEnvelope (a validation parameter) as a policy. */
export function decodeSignaturePolicy(bytes: Uint8Array): EndorsementPolicy {
  const cacheKey = Buffer.from(bytes).toString('base64');
  let policy = decoded.get(cacheKey);
  if (policy === undefined) {
    policy = decodePolicyEnvelope(bytes);
    if (decoded.size >= DECODED_LIMIT) decoded.delete(decoded.keys().next().value!);
    decoded.set(cacheKey, policy);
  }
  return policy;
}

function decodePolicyEnvelope(bytes: Uint8Array): EndorsementPolicy {
  const envelope = common.SignaturePolicyEnvelope.deserializeBinary(bytes);
  const principals: Principal[] = envelope.getIdentitiesList().map((p) => {
    if (p.getPrincipalClassification() !== msp.MSPPrincipal.Classification.ROLE) return { mspId: '', role: 'orderer' }; // never satisfied here
    const role = msp.MSPRole.deserializeBinary(p.getPrincipal_asU8());
    return { mspId: role.getMspIdentifier(), role: ROLE_NAMES[role.getRole()] ?? 'orderer' };
  });
  const toRule = (p: common.SignaturePolicy | undefined): Rule => {
    if (p === undefined) return { n: 1, rules: [] };
    if (p.hasSignedBy()) return { signedBy: p.getSignedBy() };
    const nOutOf = p.getNOutOf();
    return { n: nOutOf?.getN() ?? 1, rules: (nOutOf?.getRulesList() ?? []).map(toRule) };
  };
  return { kind: 'signature', principals, rule: toRule(envelope.getRule()) };
}

/** A signature policy as Fabric marshals it (for the channel configuration). */
export function encodeSignaturePolicy(policy: Extract<EndorsementPolicy, { kind: 'signature' }>): common.SignaturePolicyEnvelope {
  const envelope = new common.SignaturePolicyEnvelope();
  envelope.setVersion(0);
  envelope.setIdentitiesList(
    policy.principals.map((p) => {
      const role = new msp.MSPRole();
      role.setMspIdentifier(p.mspId);
      role.setRole(ROLE_BY_NAME[p.role]);
      const principal = new msp.MSPPrincipal();
      principal.setPrincipalClassification(msp.MSPPrincipal.Classification.ROLE);
      principal.setPrincipal(role.serializeBinary());
      return principal;
    }),
  );
  const toProto = (rule: Rule): common.SignaturePolicy => {
    const p = new common.SignaturePolicy();
    if ('signedBy' in rule) p.setSignedBy(rule.signedBy);
    else {
      const nOutOf = new common.SignaturePolicy.NOutOf();
      nOutOf.setN(rule.n);
      nOutOf.setRulesList(rule.rules.map(toProto));
      p.setNOutOf(nOutOf);
    }
    return p;
  };
  envelope.setRule(toProto(policy.rule));
  return envelope;
}

/** `OR('<mspId>.<role>')`: an organization's own policy. */
export function orgPolicy(mspId: string, role: 'member' | 'admin'): Extract<EndorsementPolicy, { kind: 'signature' }> {
  return { kind: 'signature', principals: [{ mspId, role }], rule: { n: 1, rules: [{ signedBy: 0 }] } };
}

/**
 * Whether the signers satisfy the policy. `orgs` are the channel's application organizations
 * (MSP ids), over which an implicit meta policy counts. Each signer is used at most once in a
 * signature policy, greedily as Fabric's cauthdsl does.
 */
export function satisfied(policy: EndorsementPolicy, signers: readonly Signer[], orgs: readonly string[]): boolean {
  if (policy.kind === 'implicit') {
    const met = orgs.filter((mspId) => signers.some((s) => s.mspId === mspId)).length;
    const needed = policy.rule === 'ANY' ? 1 : policy.rule === 'ALL' ? orgs.length : Math.floor(orgs.length / 2) + 1;
    return orgs.length > 0 && met >= needed;
  }
  const used = signers.map(() => false);
  const evaluate = (rule: Rule, usedNow: boolean[]): boolean => {
    if ('signedBy' in rule) {
      const principal = policy.principals[rule.signedBy];
      if (principal === undefined) return false;
      const i = signers.findIndex((s, k) => !usedNow[k] && matches(principal, s));
      if (i < 0) return false;
      usedNow[i] = true;
      return true;
    }
    let verified = 0;
    for (const sub of rule.rules) {
      const trial = [...usedNow];
      if (evaluate(sub, trial)) {
        verified += 1;
        trial.forEach((u, k) => (usedNow[k] = u));
      }
    }
    return verified >= rule.n;
  };
  return evaluate(policy.rule, used);
}

function matches(principal: Principal, signer: Signer): boolean {
  if (principal.mspId !== signer.mspId) return false;
  if (principal.role === 'member') return true;
  if (principal.role === 'admin') return signer.isAdmin;
  return false; // peer, client, orderer: NodeOUs are not enabled (see above)
}

/** The organizations a policy names (empty for an implicit one: it names all). */
export function namedOrgs(policy: EndorsementPolicy): string[] {
  return policy.kind === 'implicit' ? [] : [...new Set(policy.principals.map((p) => p.mspId))];
}

export function describePolicy(policy: EndorsementPolicy): string {
  if (policy.kind === 'implicit') return `${policy.rule} ${policy.subPolicy}`;
  const show = (rule: Rule): string => {
    if ('signedBy' in rule) {
      const p = policy.principals[rule.signedBy];
      return p === undefined ? '?' : `'${p.mspId}.${p.role}'`;
    }
    return `OutOf(${rule.n}, ${rule.rules.map(show).join(', ')})`;
  };
  return show(policy.rule);
}
