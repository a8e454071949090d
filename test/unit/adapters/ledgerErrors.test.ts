import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metadata, status } from '@grpc/grpc-js';
import { CommitError, GatewayError } from '@hyperledger/fabric-gateway';
import { LedgerCommitStatusError, LedgerEndorseError, LedgerSubmitError, parseChaincodeError, toLedgerError } from '../../../src/adapters/ledger/errors';

const grpcError = (code: number, message: string) => Object.assign(new Error(message), { code, details: message, metadata: new Metadata() });

test('the chaincode error JSON is found in a peer message', () => {
  assert.deepEqual(parseChaincodeError('chaincode response 500, {"code":"lease_held","message":"held","data":{"expiresAt":"x"}}'), {
    code: 'lease_held',
    message: 'held',
    data: { expiresAt: 'x' },
  });
  assert.equal(parseChaincodeError('chaincode response 500, {"code":"made_up","message":"m"}'), undefined);
  assert.equal(parseChaincodeError('no json here'), undefined);
});

test('endorsement failures keep the chaincode code, data and transaction id', () => {
  const err = Object.assign(
    new GatewayError({
      message: 'failed to endorse',
      code: status.ABORTED,
      details: [{ address: 'peer', mspId: 'PeerMSP', message: 'chaincode response 500, {"code":"forbidden","message":"not yours"}' }],
      cause: grpcError(status.ABORTED, 'x'),
    }),
    { transactionId: 'abc' },
  );
  const mapped = toLedgerError(err, 'endorse');
  assert.ok(mapped instanceof LedgerEndorseError);
  assert.equal(mapped.code, 'forbidden');
  assert.equal(mapped.message, 'not yours');
  assert.equal(mapped.transactionId, 'abc');
  assert.equal(mapped.httpStatus, 403);
});

test('an unreachable peer is unavailable, at the stage it happened', () => {
  const err = new GatewayError({ message: '14 UNAVAILABLE', code: status.UNAVAILABLE, details: [], cause: grpcError(status.UNAVAILABLE, 'x') });
  const mapped = toLedgerError(err, 'submit');
  assert.ok(mapped instanceof LedgerSubmitError);
  assert.equal(mapped.code, 'unavailable');
  assert.equal(toLedgerError(err, 'commit').code, 'unavailable');
});

test('an MVCC-invalidated commit is a conflict', () => {
  const mapped = toLedgerError(new CommitError({ message: 'invalid', code: 11, transactionId: 't1' }), 'commit');
  assert.ok(mapped instanceof LedgerCommitStatusError);
  assert.equal(mapped.code, 'conflict');
  assert.equal(mapped.validationCode, 11);
});

test('chaincode validation issues become error details with their paths', () => {
  const body = '{"code":"validation_failed","message":"invalid id","data":{"issues":[{"path":"id","message":"too short"}]}}';
  const err = new GatewayError({
    message: 'failed to evaluate',
    code: status.UNKNOWN,
    details: [{ address: 'peer', mspId: 'PeerMSP', message: `chaincode response 500, ${body}` }],
    cause: grpcError(status.UNKNOWN, 'x'),
  });
  const mapped = toLedgerError(err, 'evaluate');
  assert.equal(mapped.code, 'validation_failed');
  assert.deepEqual(mapped.details, [{ path: 'id', message: 'too short' }]);
  assert.equal(mapped.data, undefined);
});
