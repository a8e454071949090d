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

/** A GatewayError as a Fabric 2.5 gateway raises it: its code, message and one endorser detail. */
const fromGateway = (code: number, message: string, detail?: string) =>
  new GatewayError({
    message: `${code} ${message}`,
    code,
    details: detail === undefined ? [] : [{ address: 'peer0.org1.example.com:7051', mspId: 'Org1MSP', message: detail }],
    cause: grpcError(code, message),
  });

test('a caller the peer refuses is forbidden, whatever gRPC code the stage carries it in (as a Fabric gateway answers)', () => {
  const refusal = 'error validating proposal: access denied: channel [mychannel] creator org [Org1MSP]';
  // The gateway's own endorser: FAILED_PRECONDITION on evaluate, ABORTED on endorse.
  const evaluate = toLedgerError(fromGateway(status.FAILED_PRECONDITION, `evaluate call to endorser returned error: ${refusal}`, refusal), 'evaluate');
  assert.equal(evaluate.code, 'forbidden');
  const endorse = toLedgerError(fromGateway(status.ABORTED, 'failed to endorse transaction, see attached details for more info', refusal), 'endorse');
  assert.ok(endorse instanceof LedgerEndorseError);
  assert.equal(endorse.code, 'forbidden');
  // A remote endorser's refusal reaches the gateway over gRPC, wrapped.
  const remote = `rpc error: code = Unknown desc = ${refusal}`;
  assert.equal(
    toLedgerError(fromGateway(status.UNAVAILABLE, 'failed to evaluate transaction, see attached details for more info', remote), 'evaluate').code,
    'forbidden',
  );
  // The orderer's signature filter refuses an envelope signed with the wrong key at submit.
  const orderer = fromGateway(
    status.ABORTED,
    "received unsuccessful response from orderer: status=FORBIDDEN, info=implicit policy evaluation failed - 0 sub-policies were satisfied, but this policy requires 1 of the 'Writers' sub-policies to be satisfied: permission denied",
  );
  const submit = toLedgerError(orderer, 'submit');
  assert.ok(submit instanceof LedgerSubmitError);
  assert.equal(submit.code, 'forbidden');
  // CommitStatus and ChaincodeEvents refuse with PERMISSION_DENIED on a Fabric gateway.
  assert.equal(toLedgerError(fromGateway(status.PERMISSION_DENIED, 'access denied'), 'commit').code, 'forbidden');
});

test("a chaincode's status decides the code when its message carries no error body", () => {
  const answered = (s: number) => toLedgerError(fromGateway(status.ABORTED, 'failed to endorse transaction', `chaincode response ${s}, nope`), 'endorse').code;
  assert.equal(answered(400), 'validation_failed');
  assert.equal(answered(403), 'forbidden');
  assert.equal(answered(404), 'not_found');
  assert.equal(answered(409), 'conflict');
  assert.equal(answered(500), 'internal');
  // A chaincode message that merely mentions access is still the chaincode's answer.
  assert.equal(
    toLedgerError(fromGateway(status.UNKNOWN, 'evaluate failed', 'chaincode response 500, access denied by the asset owner'), 'evaluate').code,
    'internal',
  );
});
