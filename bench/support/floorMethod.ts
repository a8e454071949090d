/** A unary gRPC method at `path` that takes and answers raw bytes (no protobuf): the ledger
 * floors' method, and the canned gateway's three (bench/fixtures/ledgerCannedGateway.ts). */
const bytes = (b: Buffer): Buffer => b;
export const rawMethod = (path: string) => ({
  path,
  requestStream: false,
  responseStream: false,
  requestSerialize: bytes,
  requestDeserialize: bytes,
  responseSerialize: bytes,
  responseDeserialize: bytes,
});

/** The ledger floors' one gRPC method (bench/ledger.ts, in process, and its server half in
 * bench/fixtures/ledgerFloorServer.ts): lease-sized bytes each way. */
export const floorMethod = rawMethod('/floor.Floor/Call');
