/**
 * Exit codes scripts can rely on (also in `ledgerflow --help` and the README). The API's
 * error codes map onto them by HTTP status, so a new server code lands in the right class.
 */
export const EXIT = {
  ok: 0,
  /** The operation ran and failed, e.g. a workflow that ended Failed or Canceled. */
  failure: 1,
  /** Bad arguments or a request the server rejected as invalid (400). */
  usage: 2,
  notFound: 3,
  /** 409: the lease is held by someone else, the run has already finished. */
  conflict: 4,
  /** 401 or 403. */
  unauthorized: 5,
  /** The server cannot be reached or answers 5xx. */
  unavailable: 6,
  /** `workflows wait --timeout` ran out before the run ended. */
  timeout: 7,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODES_HELP = `Exit codes:
  0  ok
  1  failure (e.g. the workflow ended Failed or Canceled)
  2  usage error (bad arguments, or a request the server rejected as invalid)
  3  not found
  4  conflict (e.g. the lease is held by someone else)
  5  unauthorized or forbidden
  6  server or network unavailable
  7  timed out (workflows wait --timeout)`;

/** An error the CLI reports as one line, `error: <code>: <message>`, and exits with. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    readonly code: string,
    message: string,
    readonly details: readonly { path: string; message: string }[] = [],
    /** The API error's other caller-safe fields (lease_held: holder, expiresAt). */
    readonly data: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string) => new CliError(EXIT.usage, 'usage', message);

export function exitCodeForStatus(status: number): ExitCode {
  if (status === 400 || status === 413 || status === 415) return EXIT.usage;
  if (status === 401 || status === 403) return EXIT.unauthorized;
  if (status === 404 || status === 410) return EXIT.notFound;
  if (status === 409 || status === 412) return EXIT.conflict;
  if (status >= 500) return EXIT.unavailable;
  return EXIT.failure;
}
