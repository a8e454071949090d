/** An organization's short name (`uis`): lower-case, usable in file names, secret names and URLs. */
export const ORG_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
/**
 * A dataset id, the one rule for every place that takes one (HTTP paths, workflow.yaml
 * volumes, storage directories): lower-case hex, 32 characters (the 128 random bits this
 * platform issues) or 64 (the ids of the thesis's platform, so its workflow.yaml examples
 * parse unchanged). Hex only, so an id is also a safe file and directory name.
 */
export const DATASET_ID = /^(?:[0-9a-f]{32}|[0-9a-f]{64})$/;
/** The rule in words, for error messages. */
export const DATASET_ID_RULE = 'must be a dataset id (32 lower-case hex characters, or 64)';

export function isDatasetId(id: string): boolean {
  return DATASET_ID.test(id);
}
/** A user name as the chaincode accepts it (single inner spaces); never `.` or `..` alone, as
 * identities are stored in directories named after it. */
export const USER_NAME = /^(?=.{1,128}$)(?!\.{1,2}$)[A-Za-z0-9._@-]+( [A-Za-z0-9._@-]+)*$/;

/** Whether a ledger identity may exist under these names. */
export function isValidIdentityName(org: string, user: string): boolean {
  return ORG_NAME.test(org) && USER_NAME.test(user);
}

/** `uis` -> `UisMSP`: the inverse of the chaincode's orgOfMspId (organization names are lower case). */
export function mspIdFor(org: string): string {
  return `${org.charAt(0).toUpperCase()}${org.slice(1)}MSP`;
}
