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

/** Committed world state as of the snapshot the simulation runs against. It should not
 * change while one simulation runs (the chaincode reads across several awaits); if it
 * does, the versions recorded in the read set make MVCC validation reject the torn read. */
export interface StateReader {
  get(key: string): VersionedValue | undefined;
  /** The key's endorsement policy (VALIDATION_PARAMETER), if it has one. Optional: readers
   * without metadata have none. */
  validationParameter?(key: string): Buffer | undefined;
  /** keys in [startKey, endKey) in byte order; endKey '' means unbounded
   * (UTF-8 byte order: sort with `compareKeys` from ./keyOrder, not JS `<`). Lazy: a
   * chaincode that stops early stops the iteration. */
  range(startKey: string, endKey: string): Iterable<{ key: string } & VersionedValue>;
  /** Every committed write of the key, newest first as Fabric 2.x hands them to chaincode;
   * lazy, so a chaincode that reads only the newest entry does not load the rest. A delete
   * has isDelete true and an empty value. `value` may be a getter that reads the block on
   * first access, so a chaincode that reads only tx ids and times decodes no block. */
  history(key: string): Iterable<{ txId: string; timestamp: Date; isDelete: boolean; readonly value: Buffer }>;
}

/** A range query as executed, for phantom-read validation at commit: the keys it returned
 * (in order) and whether it ran to the end of the range. Not exhausted (the chaincode
 * stopped early, or a page was full) means only the first `keys.length` committed entries
 * of the range must still match; exhausted means the whole range must (see mvcc.ts).
 * For a paginated query startKey is where the page started (the bookmark). */
export interface RangeRead {
  startKey: string;
  endKey: string;
  keys: { key: string; version: Version }[];
  exhausted: boolean;
}

export interface ReadWriteSet {
  /** version null = the key did not exist when read. Sorted by key (compareKeys). */
  reads: { key: string; version: Version | null }[];
  rangeReads: RangeRead[];
  writes: { key: string; value: Buffer | null }[]; // null = delete; last write per key wins; sorted by key
  /** Key-level endorsement policies set (`setStateValidationParameter`): the marshalled
   * SignaturePolicyEnvelope, or null to remove it. Sorted by key; absent when none. */
  metadataWrites?: { key: string; validationParameter: Buffer | null }[];
}

/** The state metadata entry that holds a key's endorsement policy, as fabric-shim names it. */
export const VALIDATION_PARAMETER = 'VALIDATION_PARAMETER';

export interface SimulationInput {
  channelId: string;
  /** The endorsing organization's MSP id: what `ctx.stub.getMspID()` answers. */
  endorserMspId?: string;
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
  /** Empty when status >= 400: a failed simulation is not endorsed and writes nothing. */
  rwset: ReadWriteSet;
  /** The transaction's one chaincode event (the last setEvent), only when status < 400. */
  event?: { name: string; payload: Buffer };
  /** The chaincode asked which organization endorses (getMspID): its result may differ per
   * endorser, so each endorser must simulate it. */
  askedMspId?: boolean;
}

export interface Chaincode {
  readonly name: string;
  simulate(input: SimulationInput, state: StateReader): Promise<SimulationResult>;
}

/** The signature of `loadChaincode` (exported from ./index, implemented in
 * ./chaincodeSimulator, which also takes optional `{ logLevel }`). */
export type LoadChaincode = (name: string, contracts: unknown[] /* Contract classes */) => Chaincode;
