/**
 * Typed errors with stable codes. Every layer throws these (or lets an unknown error
 * become `internal`); `functions/http/errorResponse.ts` maps codes to HTTP in one place.
 * A code is part of the public contract: clients and the CLI switch on it.
 */
export const ERROR_CODES = {
  validation_failed: 400,
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  /** A run's outputs are withheld from its requester until the reviewing owners release them. */
  results_pending_review: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  lease_held: 409,
  gone: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  precondition_failed: 412,
  unavailable: 503,
  insufficient_storage: 507,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** One problem in a request or spec, located by a path such as `jobs[2].volumes[0].path`. */
export interface ErrorDetail {
  path: string;
  message: string;
}

export class LedgerflowError extends Error {
  readonly code: ErrorCode;
  readonly details: readonly ErrorDetail[] | undefined;
  /** Extra machine-readable fields safe to show to the caller (never a secret). */
  readonly data: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options: { details?: readonly ErrorDetail[]; data?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LedgerflowError';
    this.code = code;
    this.details = options.details;
    this.data = options.data;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code];
  }
}

export const validationError = (message: string, details: readonly ErrorDetail[]) => new LedgerflowError('validation_failed', message, { details });
export const notFound = (what: string) => new LedgerflowError('not_found', `${what} was not found`);
export const forbidden = (message: string) => new LedgerflowError('forbidden', message);
export const conflict = (message: string, data?: Record<string, unknown>) => new LedgerflowError('conflict', message, data === undefined ? {} : { data });

const DISK_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);
// As the messages read once the code is lost on the way (gRPC from the ledger peer, a worker thread).
const DISK_FULL_TEXT = /\b(ENOSPC|EDQUOT)\b|no space left on device|disk quota exceeded|database or disk is full|data disk is full/i;

export const mentionsDiskFull = (text: string): boolean => DISK_FULL_TEXT.test(text);

/** Whether `err`, or an error it wraps, says the disk (or the user's quota) is full. */
export function isDiskFull(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    if (e instanceof LedgerflowError && e.code === 'insufficient_storage') return true;
    const { code, message, details, cause } = e as { code?: unknown; message?: unknown; details?: unknown; cause?: unknown };
    if (typeof code === 'string' && DISK_FULL_CODES.has(code)) return true;
    if ((typeof message === 'string' && mentionsDiskFull(message)) || (typeof details === 'string' && mentionsDiskFull(details))) return true;
    e = cause;
  }
  return false;
}

/** The one error every component reports a full data disk with (507). */
export function insufficientStorage(cause?: unknown): LedgerflowError {
  return new LedgerflowError('insufficient_storage', 'the data disk is full: free space on it, then retry', { cause });
}

/** Normalises anything thrown into a LedgerflowError; unknown errors become `internal`
 * with a generic message, so internals (paths, stack traces) never reach a client. A full
 * disk, wherever it was met, is `insufficient_storage`. */
export function toLedgerflowError(err: unknown): LedgerflowError {
  if (err instanceof LedgerflowError) return err;
  if (isDiskFull(err)) return insufficientStorage(err);
  return new LedgerflowError('internal', 'internal error', { cause: err });
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
