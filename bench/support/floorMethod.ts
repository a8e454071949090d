/** The ledger floors' one gRPC method (bench/ledger.ts, in process, and its server half in
 * bench/fixtures/ledgerFloorServer.ts): lease-sized bytes each way, no protobuf. */
const bytes = (b: Buffer): Buffer => b;
export const floorMethod = {
  path: '/floor.Floor/Call',
  requestStream: false,
  responseStream: false,
  requestSerialize: bytes,
  requestDeserialize: bytes,
  responseSerialize: bytes,
  responseDeserialize: bytes,
};
