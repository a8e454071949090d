import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyEndorsementPolicy } from 'fabric-shim';
import {
  decodeSignaturePolicy,
  encodeSignaturePolicy,
  parseEndorsementPolicy,
  satisfied,
  type EndorsementPolicy,
  type Signer,
} from '../../../src/ledger-peer/endorsementPolicy';
import { planEndorsement } from '../../../src/ledger-peer/endorsers';

const ORGS = ['AMSP', 'BMSP', 'CMSP'];
const members = (...mspIds: string[]): Signer[] => mspIds.map((mspId) => ({ mspId, isAdmin: false }));

test('implicit meta policies count organizations as Fabric does (MAJORITY of n is n/2+1)', () => {
  const majority = parseEndorsementPolicy('MAJORITY Endorsement');
  assert.equal(satisfied(majority, members('AMSP'), ORGS), false);
  assert.equal(satisfied(majority, members('AMSP', 'AMSP'), ORGS), false, 'two identities of one organization are one organization');
  assert.equal(satisfied(majority, members('AMSP', 'CMSP'), ORGS), true);
  assert.equal(satisfied(majority, members('AMSP'), ['AMSP', 'BMSP']), false);
  assert.equal(satisfied(parseEndorsementPolicy('ANY Endorsement'), members('BMSP'), ORGS), true);
  assert.equal(satisfied(parseEndorsementPolicy('ALL Endorsement'), members('AMSP', 'BMSP'), ORGS), false);
  assert.equal(satisfied(majority, members('XMSP', 'YMSP'), ORGS), false, 'outsiders do not count');
});

test("signature policies in Fabric's language: OR, AND, OutOf, member and admin; peer needs NodeOUs", () => {
  const policy = parseEndorsementPolicy("OR(AND('AMSP.member', 'BMSP.member'), OutOf(2, 'CMSP.admin', 'AMSP.admin', 'BMSP.member'))");
  assert.equal(satisfied(policy, members('AMSP', 'BMSP'), ORGS), true);
  assert.equal(satisfied(policy, members('AMSP'), ORGS), false);
  assert.equal(satisfied(policy, [{ mspId: 'CMSP', isAdmin: true }, ...members('BMSP')], ORGS), true);
  assert.equal(satisfied(policy, [...members('CMSP', 'BMSP')], ORGS), false, 'a member is not an admin');
  assert.equal(satisfied(parseEndorsementPolicy("OR('AMSP.peer')"), members('AMSP'), ORGS), false);
  // One identity satisfies one principal only.
  assert.equal(satisfied(parseEndorsementPolicy("AND('AMSP.member', 'AMSP.member')"), members('AMSP'), ORGS), false);
  assert.equal(satisfied(parseEndorsementPolicy("AND('AMSP.member', 'AMSP.member')"), members('AMSP', 'AMSP'), ORGS), true);
  for (const bad of ["OR('AMSP')", 'XOR(1)', "OR('AMSP.member'", "OutOf('AMSP.member')", "OR('AMSP.member')) x"]) {
    assert.throws(() => parseEndorsementPolicy(bad), /endorsement policy/, bad);
  }
});

test("a validation parameter written by fabric-shim's KeyEndorsementPolicy reads back as the same policy", () => {
  const builder = new KeyEndorsementPolicy();
  builder.addOrgs('MEMBER', 'AMSP', 'BMSP');
  const policy = decodeSignaturePolicy(builder.getPolicy());
  assert.equal(satisfied(policy, members('AMSP'), ORGS), false);
  assert.equal(satisfied(policy, members('BMSP', 'AMSP'), ORGS), true);
  const again = decodeSignaturePolicy(encodeSignaturePolicy(policy as Extract<EndorsementPolicy, { kind: 'signature' }>).serializeBinary());
  assert.deepEqual(again, policy);
});

test("the gateway's plan: the fewest organizations, the client's first, the owner when a key needs it", () => {
  const majority = parseEndorsementPolicy('MAJORITY Endorsement');
  const ownerA = parseEndorsementPolicy("AND('AMSP.member')");
  assert.deepEqual(planEndorsement([majority], ORGS, 'CMSP'), ['CMSP', 'AMSP']);
  assert.deepEqual(planEndorsement([majority, ownerA], ORGS, 'BMSP'), ['BMSP', 'AMSP']);
  assert.deepEqual(planEndorsement([ownerA], ORGS, 'BMSP'), ['AMSP']);
  assert.deepEqual(planEndorsement([majority], ORGS, 'XMSP'), ['AMSP', 'BMSP']);
  assert.equal(planEndorsement([parseEndorsementPolicy("OR('ZMSP.member')")], ORGS, 'AMSP'), undefined);
});
