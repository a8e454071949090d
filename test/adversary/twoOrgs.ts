import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { startPeerFixture, type PeerFixture } from '../integration/ledger/peerFixture';
import { DishonestClient, type Outcome } from './dishonestClient';

/**
 * An embedded peer with two members' own clients for the test file's lifetime: alice of uis,
 * the owner, and mallory of uio, the other organization (node:test before/after hooks). The
 * fields are set once `before` has run.
 */
export function ownerAndOutsider(): { f: PeerFixture; alice: DishonestClient; mallory: DishonestClient } {
  const parties = {} as { f: PeerFixture; alice: DishonestClient; mallory: DishonestClient };
  before(async () => {
    parties.f = await startPeerFixture();
    [parties.mallory, parties.alice] = await Promise.all([
      DishonestClient.connect(parties.f.peer.endpoint, parties.f.peer.mspDir, 'uio', 'mallory'),
      DishonestClient.connect(parties.f.peer.endpoint, parties.f.peer.mspDir, 'uis', 'alice'),
    ]);
  });
  after(async () => {
    for (const c of [parties.mallory, parties.alice]) c?.close();
    await parties.f?.close();
  });
  return parties;
}

/** The chaincode's answer, asserting it was accepted. */
export const accepted = (out: Outcome): string => {
  assert.ok(out.ok, `expected acceptance, got: ${out.text}`);
  return out.text;
};

/** Asserts a refusal with this chaincode error code. */
export const refusedWith = (out: Outcome, code: string): void => {
  assert.equal(out.ok, false, `expected a refusal (${code}), got: ${out.text}`);
  assert.equal(out.code, code, out.text);
};
