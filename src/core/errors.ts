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
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  lease_held: 409,
  gone: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  precondition_failed: 412,
  unavailable: 503,
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

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: readonly ErrorDetail[]; data?: Record<string, unknown>; cause?: unknown } = {},
  ) {
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

export const validationError = (message: string, details: readonly ErrorDetail[]) =>
  new LedgerflowError('validation_failed', message, { details });
export const notFound = (what: string) => new LedgerflowError('not_found', `${what} was not found`);
export const forbidden = (message: string) => new LedgerflowError('forbidden', message);
export const conflict = (message: string, data?: Record<string, unknown>) =>
  new LedgerflowError('conflict', message, data === undefined ? {} : { data });

/** Normalises anything thrown into a LedgerflowError; unknown errors become `internal`
 * with a generic message, so internals (paths, stack traces) never reach a client. */
export function toLedgerflowError(err: unknown): LedgerflowError {
  if (err instanceof LedgerflowError) return err;
  return new LedgerflowError('internal', 'internal error', { cause: err });
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
