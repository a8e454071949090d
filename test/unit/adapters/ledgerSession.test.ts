import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LedgerResultError } from '../../../src/adapters/ledger/errors';
import { FabricLedgerSession, type ContractCalls } from '../../../src/adapters/ledger/session';
import { LedgerflowError } from '../../../src/core/errors';

/**
 * A peer's answers are parsed against the chaincode's record types (src/api/ledgerRecords.ts),
 * not cast: a peer that answers with something else fails the call with a typed error naming
 * the transaction and the bad fields, before any use case sees the value.
 */

const who = { user: 'alice', org: 'uis', mspId: 'UisMSP' };
const lease = { datasetId: 'd1', holder: who, takenAt: '2026-01-01T00:00:00.000Z', expiresAt: '2026-01-01T01:00:00.000Z' };

/** A session whose peer answers every transaction with `answer`. */
function sessionAnswering(answer: string): FabricLedgerSession {
  const calls: ContractCalls = { evaluate: async () => answer, submit: async () => answer, queryLedger: async () => undefined };
  return new FabricLedgerSession(calls);
}

async function refusal(call: Promise<unknown>): Promise<LedgerResultError> {
  const err = await call.then(
    () => assert.fail('a malformed answer was accepted'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof LedgerResultError, String(err));
  assert.ok(err instanceof LedgerflowError);
  assert.equal(err.code, 'internal');
  assert.equal(err.stage, 'result');
  return err;
}

test('a well-formed record is returned as parsed', async () => {
  assert.deepEqual(await sessionAnswering(JSON.stringify(lease)).takeLease('d1', 60), lease);
  assert.deepEqual(await sessionAnswering(JSON.stringify([lease])).expireLeases(), [lease]);
});

test('a record with a wrong or missing field fails naming the transaction and the field, never its value', async () => {
  const err = await refusal(sessionAnswering(JSON.stringify({ ...lease, expiresAt: 'tomorrow-ish', holder: { user: 'alice' } })).takeLease('d1', 60));
  assert.equal(err.transaction, 'TakeLease');
  assert.deepEqual(err.details?.map((d) => d.path).sort(), ['expiresAt', 'holder.mspId', 'holder.org']);
  assert.doesNotMatch(JSON.stringify({ message: err.message, details: err.details }), /tomorrow-ish/);
});

test('an answer that is not JSON, or a list where a record belongs, is refused the same way', async () => {
  assert.equal((await refusal(sessionAnswering('<html>').getDataset('d1'))).transaction, 'ReadDataset');
  await refusal(sessionAnswering(JSON.stringify([lease])).getLease('d1'));
  await refusal(sessionAnswering(JSON.stringify({ items: [{ id: 'd1' }] })).listDatasets({ pageSize: 10 }));
  await refusal(sessionAnswering(JSON.stringify([{ txId: 't', timestamp: lease.takenAt, action: 'teleported', by: who }])).datasetHistory('d1'));
});
