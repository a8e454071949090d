/** An organization's short name (`uis`): lower-case, usable in file names, secret names and URLs. */
export const ORG_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** A dataset id: 32 lower-case hex characters (128 random bits). */
export const DATASET_ID = /^[0-9a-f]{32}$/;
