import pino from 'pino';

/**
 * Structured JSON logs. Fields that may carry secrets are redacted by name as a last line
 * of defence; the first line is that no code logs a secret. Child loggers carry ids
 * (workflowId, jobName, datasetId, invocationId).
 */
export type Logger = pino.Logger;

const REDACT = [
  'credential',
  '*.credential',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'key',
  '*.key',
  'secret',
  '*.secret',
  'password',
  '*.password',
  // An HTTP client's error (axios, as the durable SDK's client uses) carries the request's
  // URL, which for the in-process durable client holds its secret path.
  'err.config',
  'err.request',
  'err.response',
];

export function createLogger(options: { level?: string; name?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      name: options.name ?? 'ledgerflow',
      level: options.level ?? process.env['LOG_LEVEL'] ?? 'info',
      redact: { paths: REDACT, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

let root: Logger | undefined;
export function logger(): Logger {
  root ??= createLogger();
  return root;
}
