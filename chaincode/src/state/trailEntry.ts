/** One committed write of a key that concerns a run (see trail.ts): its transaction, when,
 * and the value written ('' for a delete), as the UTF-8 text the chaincode stored. */
export interface TrailEntry {
  key: string;
  txId: string;
  timestamp: string;
  isDelete: boolean;
  value: string;
}
