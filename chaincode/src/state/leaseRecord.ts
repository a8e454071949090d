import type { Identity } from './identity';

/** The one lease key of a dataset. Present and unexpired (by transaction time) = held. */
export interface LeaseRecord {
  datasetId: string;
  holder: Identity;
  takenAt: string; // ISO-8601, transaction timestamp
  expiresAt: string;
}
