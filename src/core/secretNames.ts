import { LedgerflowError } from './errors';

/**
 * Key-store secret names. Key Vault allows `[0-9a-zA-Z-]{1,127}`; the file store keeps the
 * same rule so the two are interchangeable.
 */
const SECRET_NAME = /^[0-9a-zA-Z-]{1,127}$/;

export function assertSecretName(name: string): void {
  if (!SECRET_NAME.test(name)) {
    throw new LedgerflowError('bad_request', 'secret name must match [0-9a-zA-Z-]{1,127}');
  }
}

export const dataKeyName = (datasetId: string) => `ds-${datasetId}-key`;
export const credentialName = (datasetId: string) => `ds-${datasetId}-credential`;
