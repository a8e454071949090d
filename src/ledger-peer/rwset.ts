import { ledger } from '@hyperledger/fabric-protos';
import { VALIDATION_PARAMETER, type ReadWriteSet, type Version } from './simulator/types';
import { ProtoWriter } from './protoWriter';

/** Read/write sets in Fabric's wire form (TxReadWriteSet > NsReadWriteSet > KVRWSet), as they
 * travel inside the endorsed transaction and are validated at commit. */

const { rwset } = ledger;
const { kvrwset } = rwset;

export interface NamespacedRwset {
  namespace: string;
  rwset: ReadWriteSet;
}

/** The TxReadWriteSet bytes of one namespace's read/write set, as google-protobuf would
 * serialize them (rwset.proto, kv_rwset.proto; see protoWriter.ts). */
export function encodeRwset(namespace: string, rw: ReadWriteSet): Uint8Array {
  const kv = new ProtoWriter();
  for (const r of rw.reads) kv.message(1, encodeRead(r.key, r.version));
  for (const q of rw.rangeReads) {
    const raw = new ProtoWriter();
    for (const k of q.keys) raw.message(1, encodeRead(k.key, k.version));
    kv.message(2, new ProtoWriter().string(1, q.startKey).string(2, q.endKey).bool(3, q.exhausted).message(4, raw.finish()).finish());
  }
  for (const w of rw.writes) {
    kv.message(
      3,
      new ProtoWriter()
        .string(1, w.key)
        .bool(2, w.value === null)
        .bytes(3, w.value ?? EMPTY)
        .finish(),
    );
  }
  for (const m of rw.metadataWrites ?? []) {
    const write = new ProtoWriter().string(1, m.key);
    if (m.validationParameter !== null) write.message(2, new ProtoWriter().string(1, VALIDATION_PARAMETER).bytes(2, m.validationParameter).finish());
    kv.message(4, write.finish());
  }
  // data_model KV is 0, proto3's default: not written.
  const ns = new ProtoWriter().string(1, namespace).bytes(2, kv.finish()).finish();
  return new ProtoWriter().message(2, ns).finish();
}

const EMPTY = new Uint8Array(0);

function encodeRead(key: string, version: Version | null): Uint8Array {
  const read = new ProtoWriter().string(1, key);
  if (version !== null) read.message(2, new ProtoWriter().varint(1, version.blockNum).varint(2, version.txNum).finish());
  return read.finish();
}

export function decodeRwset(bytes: Uint8Array): NamespacedRwset[] {
  const tx = rwset.TxReadWriteSet.deserializeBinary(bytes);
  return tx.getNsRwsetList().map((ns) => {
    const kv = kvrwset.KVRWSet.deserializeBinary(ns.getRwset_asU8());
    return {
      namespace: ns.getNamespace(),
      rwset: {
        reads: kv.getReadsList().map(readOf),
        rangeReads: kv.getRangeQueriesInfoList().map((q) => ({
          startKey: q.getStartKey(),
          endKey: q.getEndKey(),
          exhausted: q.getItrExhausted(),
          keys: (q.getRawReads()?.getKvReadsList() ?? []).map((r) => {
            const { key, version } = readOf(r);
            return { key, version: version ?? { blockNum: 0, txNum: 0 } };
          }),
        })),
        writes: kv.getWritesList().map((w) => ({
          key: w.getKey(),
          value: w.getIsDelete() ? null : Buffer.from(w.getValue_asU8()),
        })),
        ...metadataWritesOf(kv),
      },
    };
  });
}

function readOf(r: ledger.rwset.kvrwset.KVRead): { key: string; version: Version | null } {
  const v = r.getVersion();
  return { key: r.getKey(), version: v === undefined ? null : { blockNum: v.getBlockNum(), txNum: v.getTxNum() } };
}

/** A metadata write's VALIDATION_PARAMETER (null: the entry is removed); other entries carry
 * nothing this peer uses. */
function metadataWritesOf(kv: ledger.rwset.kvrwset.KVRWSet): Pick<ReadWriteSet, 'metadataWrites'> {
  const writes = kv.getMetadataWritesList();
  if (writes.length === 0) return {};
  return {
    metadataWrites: writes.map((m) => {
      const entry = m.getEntriesList().find((e) => e.getName() === VALIDATION_PARAMETER);
      return { key: m.getKey(), validationParameter: entry === undefined ? null : Buffer.from(entry.getValue_asU8()) };
    }),
  };
}
