/**
 * The in-process chaincode simulator's contract with the embedded peer: the peer hands a
 * proposal and a view of committed world state to `simulate`, and gets back the chaincode
 * response with the read/write set to validate (MVCC) and commit, as a Fabric endorser does.
 */

/** Where a key's value was last written: block number and transaction index in that block. */
export interface Version {
  blockNum: number;
  txNum: number;
}

export interface VersionedValue {
  value: Buffer;
  version: Version;
}

/** Committed world state as of the snapshot the simulation runs against. */
export interface StateReader {
  get(key: string): VersionedValue | undefined;
  /** keys in [startKey, endKey) in byte order; endKey '' means unbounded */
  range(startKey: string, endKey: string): Iterable<{ key: string } & VersionedValue>;
  history(key: string): Iterable<{ txId: string; timestamp: Date; isDelete: boolean; value: Buffer }>;
}

/** A range query as executed, for phantom-read validation at commit: the keys it saw and
 * whether it ran to the end of the range (a paginated query may stop early). */
export interface RangeRead {
  startKey: string;
  endKey: string;
  keys: { key: string; version: Version }[];
  exhausted: boolean;
}

export interface ReadWriteSet {
  /** version null = the key did not exist when read */
  reads: { key: string; version: Version | null }[];
  rangeReads: RangeRead[];
  writes: { key: string; value: Buffer | null }[]; // null = delete; last write per key wins
}

export interface SimulationInput {
  channelId: string;
  txId: string;
  timestamp: Date;
  creator: { mspId: string; certPem: string };
  fn: string; // e.g. 'TakeLease' or 'ledgerflow:TakeLease'
  args: string[];
  transient?: Map<string, Buffer>;
}

export interface SimulationResult {
  status: number; // 200 OK, 500 error (as a peer's chaincode response)
  message: string; // error message (the chaincode's error JSON) when status >= 400
  payload: Buffer;
  rwset: ReadWriteSet;
  event?: { name: string; payload: Buffer };
}

export interface Chaincode {
  readonly name: string;
  simulate(input: SimulationInput, state: StateReader): Promise<SimulationResult>;
}

/** `loadChaincode(name, contracts)` is exported from ./index (the implementation). */
export type LoadChaincode = (name: string, contracts: unknown[] /* Contract classes */) => Chaincode;
