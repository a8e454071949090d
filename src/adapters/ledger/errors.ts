import { status as grpcStatus } from '@grpc/grpc-js';
import { CommitError, GatewayError, StatusCode } from '@hyperledger/fabric-gateway';
import { chaincodeErrorSchema } from '../../api/ledgerRecords';
import type { ChaincodeErrorBody } from '../../core/model';
import { LedgerflowError, insufficientStorage, isDiskFull, mentionsDiskFull, type ErrorCode, type ErrorDetail } from '../../core/errors';

/**
 * Ledger failures, one class per stage of a Fabric transaction (as fabric-gateway's
 * EndorseError / SubmitError / CommitStatusError), each a LedgerflowError whose code the
 * app maps like any other: the chaincode's own error codes pass through (not_found,
 * forbidden, lease_held with {holder, expiresAt}, conflict, gone, validation_failed), an
 * MVCC conflict that survived the retries is `conflict`, a caller a peer or the orderer
 * refuses is `forbidden`, a peer that cannot be reached is `unavailable`. The code comes from
 * what the peers said (each endorser's ErrorDetail and the message), as a Fabric 2.5 gateway
 * and the embedded peer word it alike, not from the gRPC code, which differs by stage.
 */
/** `result`: the transaction's answer was read, and is not what the chaincode's contract says. */
export type LedgerStage = 'evaluate' | 'endorse' | 'submit' | 'commit' | 'result';

export class LedgerError extends LedgerflowError {
  readonly stage: LedgerStage;
  readonly transactionId: string | undefined;

  constructor(stage: LedgerStage, code: ErrorCode, message: string, options: { transactionId?: string; data?: Record<string, unknown>; cause?: unknown } = {}) {
    const { details, data } = splitIssues(options.data);
    super(code, message, { ...(data === undefined ? {} : { data }), ...(details === undefined ? {} : { details }), cause: options.cause });
    this.name = 'LedgerError';
    this.stage = stage;
    this.transactionId = options.transactionId;
  }
}

/** The chaincode reports validation problems as `data.issues` ({path, message}); the app's
 * errors carry them as `details`, like every other validation error. */
function splitIssues(data: Record<string, unknown> | undefined): { details?: ErrorDetail[]; data?: Record<string, unknown> } {
  const issues = data?.['issues'];
  if (!Array.isArray(issues)) return data === undefined ? {} : { data };
  const details = issues.filter((i): i is ErrorDetail => typeof i === 'object' && i !== null && typeof i.path === 'string' && typeof i.message === 'string');
  const { issues: _issues, ...rest } = data as Record<string, unknown>;
  return { details, ...(Object.keys(rest).length === 0 ? {} : { data: rest }) };
}

/** Proposal evaluation or endorsement failed (the chaincode refused, or the peer did). */
export class LedgerEndorseError extends LedgerError {
  constructor(stage: 'evaluate' | 'endorse', code: ErrorCode, message: string, options: ConstructorParameters<typeof LedgerError>[3] = {}) {
    super(stage, code, message, options);
    this.name = 'LedgerEndorseError';
  }
}

/** The endorsed transaction could not be handed to the orderer. */
export class LedgerSubmitError extends LedgerError {
  constructor(code: ErrorCode, message: string, options: ConstructorParameters<typeof LedgerError>[3] = {}) {
    super('submit', code, message, options);
    this.name = 'LedgerSubmitError';
  }
}

/** The commit status could not be had, or the transaction committed invalid (`validationCode`). */
export class LedgerCommitStatusError extends LedgerError {
  readonly validationCode: number | undefined;

  constructor(code: ErrorCode, message: string, options: ConstructorParameters<typeof LedgerError>[3] & { validationCode?: number } = {}) {
    super('commit', code, message, options);
    this.name = 'LedgerCommitStatusError';
    this.validationCode = options.validationCode;
  }
}

/**
 * A peer answered with a result that is not the record the transaction returns
 * (src/api/ledgerRecords.ts): a broken or foreign peer, or a chaincode of another version.
 * `internal`, with each problem's path (never a value) in `details`. A submitted transaction
 * has committed by then: its effect stands, only its answer could not be read.
 */
export class LedgerResultError extends LedgerError {
  readonly transaction: string;

  constructor(transaction: string, issues: ErrorDetail[], options: { cause?: unknown } = {}) {
    super('result', 'internal', `the ledger's answer to ${transaction} is not a valid result`, { data: { issues }, ...options });
    this.name = 'LedgerResultError';
    this.transaction = transaction;
  }
}

/** The chaincode's `{"code","message","data"?}` from a peer's error text, e.g.
 * `chaincode response 500, {"code":"not_found",...}`; undefined when there is none. */
export function parseChaincodeError(text: string): ChaincodeErrorBody | undefined {
  const start = text.indexOf('{');
  if (start < 0) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text.slice(start));
  } catch {
    return undefined;
  }
  const parsed = chaincodeErrorSchema.safeParse(body);
  if (!parsed.success) return undefined;
  const { code, message, data } = parsed.data;
  return { code, message, ...(data === undefined ? {} : { data }) };
}

/** True for validation codes that mean "state moved under you": retrying may succeed. */
export function isMvccConflict(code: number): boolean {
  return code === StatusCode.MVCC_READ_CONFLICT || code === StatusCode.PHANTOM_READ_CONFLICT;
}

/** How a Fabric gateway reports a chaincode's error answer, in each endorser's detail (and in
 * Evaluate's message): `chaincode response <status>, <message>` (internal/pkg/gateway/apiutils.go). */
const CHAINCODE_RESPONSE = /chaincode response (\d+), /;
/** A peer refusing the caller before any chaincode runs, worded as Fabric words it: the
 * endorser's proposal check ("error validating proposal: access denied: channel [..] creator
 * org [..]", over gRPC from a remote peer too), qscc's ACL ("access denied for [..]"), and
 * the orderer's signature filter refusing the envelope at submit (status=FORBIDDEN). */
const REFUSED = /access denied|status=FORBIDDEN/;

/** A chaincode's HTTP-like status, for a chaincode that answers one without our error body. */
function codeForChaincodeStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'validation_failed';
    case 401:
    case 403:
      return 'forbidden';
    case 404:
      return 'not_found';
    case 409:
      return 'conflict';
    case 410:
      return 'gone';
    default:
      return 'internal';
  }
}

function codeForGrpc(code: number): ErrorCode {
  switch (code) {
    case grpcStatus.UNAVAILABLE:
    case grpcStatus.DEADLINE_EXCEEDED:
    case grpcStatus.CANCELLED:
    case grpcStatus.RESOURCE_EXHAUSTED:
      return 'unavailable';
    // A Fabric gateway's CommitStatus and ChaincodeEvents refuse a caller outside the
    // channel's ACL with PERMISSION_DENIED (Evaluate and Endorse say it in the details).
    case grpcStatus.PERMISSION_DENIED:
    case grpcStatus.UNAUTHENTICATED:
      return 'forbidden';
    // NOT_FOUND from the gateway itself means a missing channel or chaincode: a
    // configuration fault, not a missing record (those come as chaincode errors).
    default:
      return 'internal';
  }
}

/** The error code for what the peers said, most specific first: the chaincode's error body,
 * a full disk, the chaincode's status, a refusal of the caller, and only then the gRPC code
 * (which differs between the stages and gateways that report the same cause). */
function codeForTexts(texts: string[], grpcCode: number): { code: ErrorCode; full: boolean } {
  if (texts.some(mentionsDiskFull)) return { code: 'insufficient_storage', full: true };
  const status = texts.map((t) => CHAINCODE_RESPONSE.exec(t)).find((m) => m !== null);
  if (status !== undefined) return { code: codeForChaincodeStatus(Number(status[1])), full: false };
  if (texts.some((t) => REFUSED.test(t))) return { code: 'forbidden', full: false };
  return { code: codeForGrpc(grpcCode), full: false };
}

/** Turns whatever fabric-gateway threw at a stage into a LedgerError. */
export function toLedgerError(err: unknown, stage: 'evaluate' | 'endorse' | 'submit' | 'commit'): LedgerError {
  if (err instanceof LedgerError) return err;
  if (err instanceof CommitError) {
    const conflict = isMvccConflict(err.code);
    return new LedgerCommitStatusError(
      conflict ? 'conflict' : 'internal',
      conflict ? 'the transaction conflicted with a concurrent one' : `the transaction was invalidated (${err.code})`,
      {
        transactionId: err.transactionId,
        validationCode: err.code,
        cause: err,
      },
    );
  }
  if (err instanceof GatewayError) {
    // EndorseError, SubmitError (exported as a type only) and CommitStatusError carry the tx id.
    const transactionId = 'transactionId' in err && typeof err.transactionId === 'string' ? err.transactionId : undefined;
    const texts = [...err.details.map((d) => d.message), err.message];
    const body = texts.map(parseChaincodeError).find((b) => b !== undefined);
    const options = { ...(transactionId === undefined ? {} : { transactionId }), cause: err };
    // The peer's disk filled: the same 507 as any other full-disk write.
    const { code: fallback, full } = body === undefined ? codeForTexts(texts, err.code) : { code: body.code, full: false };
    const code = body?.code ?? fallback;
    const message =
      body?.message ?? (full ? insufficientStorage().message : code === 'unavailable' ? 'the ledger is unavailable' : `ledger ${stage} failed: ${err.message}`);
    const withData = body?.data === undefined ? options : { ...options, data: body.data };
    if (stage === 'submit') return new LedgerSubmitError(code, message, withData);
    if (stage === 'commit') return new LedgerCommitStatusError(code, message, withData);
    return new LedgerEndorseError(stage === 'evaluate' ? 'evaluate' : 'endorse', code, message, withData);
  }
  if (isDiskFull(err)) return new LedgerError(stage, 'insufficient_storage', insufficientStorage().message, { cause: err });
  return new LedgerError(stage, 'internal', `ledger ${stage} failed`, { cause: err });
}
