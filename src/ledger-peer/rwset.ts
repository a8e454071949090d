import { ledger } from '@hyperledger/fabric-protos';
import { VALIDATION_PARAMETER, type ReadWriteSet, type Version } from './simulator/types';

/** Read/write sets in Fabric's wire form (TxReadWriteSet > NsReadWriteSet > KVRWSet), as they
 * travel inside the endorsed transaction and are validated at commit. */

const { rwset } = ledger;
const { kvrwset } = rwset;

export interface NamespacedRwset {
  namespace: string;
  rwset: ReadWriteSet;
}

export function encodeRwset(namespace: string, rw: ReadWriteSet): Uint8Array {
  const kv = new kvrwset.KVRWSet();
  kv.setReadsList(rw.reads.map((r) => newRead(r.key, r.version)));
  kv.setRangeQueriesInfoList(
    rw.rangeReads.map((q) => {
      const info = new kvrwset.RangeQueryInfo();
      info.setStartKey(q.startKey);
      info.setEndKey(q.endKey);
      info.setItrExhausted(q.exhausted);
      const raw = new kvrwset.QueryReads();
      raw.setKvReadsList(q.keys.map((k) => newRead(k.key, k.version)));
      info.setRawReads(raw);
      return info;
    }),
  );
  kv.setWritesList(
    rw.writes.map((w) => {
      const write = new kvrwset.KVWrite();
      write.setKey(w.key);
      write.setIsDelete(w.value === null);
      if (w.value !== null) write.setValue(w.value);
      return write;
    }),
  );
  kv.setMetadataWritesList(
    (rw.metadataWrites ?? []).map((m) => {
      const write = new kvrwset.KVMetadataWrite();
      write.setKey(m.key);
      if (m.validationParameter !== null) {
        const entry = new kvrwset.KVMetadataEntry();
        entry.setName(VALIDATION_PARAMETER);
        entry.setValue(m.validationParameter);
        write.setEntriesList([entry]);
      }
      return write;
    }),
  );
  const ns = new rwset.NsReadWriteSet();
  ns.setNamespace(namespace);
  ns.setRwset(kv.serializeBinary());
  const tx = new rwset.TxReadWriteSet();
  tx.setDataModel(rwset.TxReadWriteSet.DataModel.KV);
  tx.setNsRwsetList([ns]);
  return tx.serializeBinary();
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

function newRead(key: string, version: Version | null): ledger.rwset.kvrwset.KVRead {
  const read = new kvrwset.KVRead();
  read.setKey(key);
  if (version !== null) {
    const v = new kvrwset.Version();
    v.setBlockNum(version.blockNum);
    v.setTxNum(version.txNum);
    read.setVersion(v);
  }
  return read;
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
