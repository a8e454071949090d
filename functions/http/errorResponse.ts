import type { HttpResponseInit, InvocationContext } from '@azure/functions';
import { toLedgerflowError } from '../../src/core/errors';

/**
 * The one place errors become HTTP responses: `{"error": {"code", "message", "details"?}}`
 * with the status of the LedgerflowError code, plus the error's caller-safe `data` fields
 * (e.g. a lease's holder and expiry), and on a 401 the `WWW-Authenticate` challenge.
 * Anything else is a 500 with a generic message; its cause goes to the log with the
 * invocation id, never to the client.
 */
export function errorResponse(err: unknown, context: InvocationContext): HttpResponseInit {
  const error = toLedgerflowError(err);
  if (error.code === 'internal') {
    context.error(`internal error in ${context.functionName}:`, error.cause ?? error);
  } else {
    context.log(`request failed: ${error.code}: ${error.message}`);
  }
  return {
    status: error.httpStatus,
    // RFC 9110 11.6.1: a 401 names the scheme that would be accepted (RFC 6750 for bearer).
    ...(error.httpStatus === 401 && { headers: { 'www-authenticate': 'Bearer realm="ledgerflow"' } }),
    jsonBody: {
      error: {
        ...(error.data ?? {}),
        code: error.code,
        message: error.message,
        ...(error.details && error.details.length > 0 ? { details: error.details } : {}),
      },
    },
  };
}
