/**
 * Chaincode errors cross the peer as a plain message string, so the message IS the
 * contract: JSON `{"code", "message", "data"?}`. The app's ledger adapter parses it.
 */
export type ChaincodeErrorCode = 'validation_failed' | 'not_found' | 'forbidden' | 'conflict' | 'lease_held' | 'gone';

export interface ChaincodeErrorBody {
  code: ChaincodeErrorCode;
  message: string;
  data?: Record<string, unknown>;
}

export class ChaincodeError extends Error {
  readonly body: ChaincodeErrorBody;

  constructor(code: ChaincodeErrorCode, message: string, data?: Record<string, unknown>) {
    const body: ChaincodeErrorBody = data === undefined ? { code, message } : { code, message, data };
    super(JSON.stringify(body));
    this.name = 'ChaincodeError';
    this.body = body;
  }
}

export const validationFailed = (message: string, data?: Record<string, unknown>) => new ChaincodeError('validation_failed', message, data);
export const notFound = (what: string) => new ChaincodeError('not_found', `${what} was not found`);
export const forbidden = (message: string) => new ChaincodeError('forbidden', message);
export const conflict = (message: string) => new ChaincodeError('conflict', message);
export const gone = (what: string) => new ChaincodeError('gone', `${what} was deleted`);
