import { peer } from '@hyperledger/fabric-protos';
import { compareKeys } from './keyOrder';
import { VALIDATION_PARAMETER, type RangeRead, type ReadWriteSet, type StateReader, type Version, type VersionedValue } from './types';

interface ShimIterator<T> {
  next(): Promise<IteratorResult<T>>;
  close(): Promise<void>;
}
interface ShimKV {
  key: string;
  value: Buffer;
}
interface ShimKeyModification {
  txId: string;
  value: Buffer;
  isDelete: boolean;
  timestamp: { seconds: number; nanos: number };
}

/**
 * A transaction simulator with a Fabric peer's semantics, in the shape of the handler that
 * fabric-shim's ChaincodeStub talks to (the `handle*` methods; the stub adds key
 * validation, composite keys and the async-iterator plumbing itself).
 *
 * - Reads go to committed state only; a transaction does not see its own writes.
 * - Every read records the version it saw (null when absent); range queries record the
 *   keys they returned and whether they ran to the end, for phantom checks at commit.
 * - Writes are buffered, last write per key wins; an empty value is a delete (Fabric's
 *   KVWrite.IsDelete is `len(value) == 0`).
 * - Paginated queries are for read-only transactions: no writes after one, none before.
 * - State metadata is the key-level endorsement policy (VALIDATION_PARAMETER) only.
 * - Private data, rich queries and chaincode-to-chaincode calls are not
 *   offered (the embedded peer keeps public LevelDB-like state only) and fail clearly.
 */
export class TxSimulator {
  private readonly reads = new Map<string, Version | null>();
  private readonly rangeReads: RangeRead[] = [];
  private readonly writes = new Map<string, Buffer | null>();
  private readonly metadataWrites = new Map<string, Buffer | null>();
  private paginatedQueryPerformed = false;
  private done = false;

  constructor(private readonly state: StateReader) {}

  /** Ends the simulation; a call arriving later (a leaked promise in chaincode) fails. */
  finish(): void {
    this.done = true;
  }

  readWriteSet(): ReadWriteSet {
    const byKey = <T extends { key: string }>(a: T, b: T) => compareKeys(a.key, b.key);
    return {
      reads: [...this.reads].map(([key, version]) => ({ key, version })).sort(byKey),
      rangeReads: this.rangeReads.map((r) => ({ ...r, keys: [...r.keys] })),
      writes: [...this.writes].map(([key, value]) => ({ key, value })).sort(byKey),
      ...(this.metadataWrites.size === 0
        ? {}
        : { metadataWrites: [...this.metadataWrites].map(([key, validationParameter]) => ({ key, validationParameter })).sort(byKey) }),
    };
  }

  async handleGetState(collection: string, key: string): Promise<Buffer> {
    this.checkOpen(collection);
    const found = this.state.get(key);
    this.reads.set(key, found === undefined ? null : found.version);
    return found === undefined ? Buffer.alloc(0) : Buffer.from(found.value);
  }

  async handlePutState(collection: string, key: string, value: Uint8Array): Promise<void> {
    this.checkWrite(collection, key);
    this.writes.set(key, value.length === 0 ? null : Buffer.from(value));
  }

  async handleDeleteState(collection: string, key: string): Promise<void> {
    this.checkWrite(collection, key);
    this.writes.set(key, null);
  }

  async handleGetStateByRange(
    collection: string,
    startKey: string,
    endKey: string,
    _channelId: string,
    _txId: string,
    metadata?: Uint8Array,
  ): Promise<{ iterator: ShimIterator<ShimKV>; metadata?: { bookmark: string; fetchedRecordsCount: number } }> {
    this.checkOpen(collection);
    if (metadata === undefined) return { iterator: this.recordingIterator(startKey, endKey) };
    return this.paginatedRange(startKey, endKey, peer.QueryMetadata.deserializeBinary(metadata));
  }

  async handleGetHistoryForKey(key: string): Promise<ShimIterator<ShimKeyModification>> {
    this.checkOpen('');
    const source = this.state.history(key)[Symbol.iterator]();
    return {
      next: async () => {
        this.checkOpen('');
        const step = source.next();
        if (step.done === true) return { done: true, value: undefined };
        const h = step.value;
        const millis = h.timestamp.getTime();
        // The value stays lazy (see StateReader.history); a copy, so the chaincode cannot
        // alter what the store caches.
        const value = {
          txId: h.txId,
          get value() {
            return Buffer.from(h.value);
          },
          isDelete: h.isDelete,
          timestamp: { seconds: Math.floor(millis / 1000), nanos: (millis % 1000) * 1_000_000 },
        };
        return { done: false, value };
      },
      close: async () => {
        source.return?.();
      },
    };
  }

  async handleQueryStateNext(): Promise<never> {
    throw new Error('query results are served in full by the embedded peer');
  }

  async handleQueryStateClose(): Promise<void> {}

  async handleGetQueryResult(): Promise<never> {
    throw unsupported('rich queries (the state database is LevelDB-like)');
  }
  async handleGetPrivateDataHash(): Promise<never> {
    throw unsupported('private data');
  }
  async handlePurgeState(): Promise<never> {
    throw unsupported('private data');
  }
  /** Key-level endorsement (`setStateValidationParameter`): the only metadata Fabric's
   * chaincode API writes. */
  async handlePutStateMetadata(collection: string, key: string, metakey: string, value: Uint8Array): Promise<void> {
    this.checkWrite(collection, key);
    if (metakey !== VALIDATION_PARAMETER) throw unsupported(`state metadata other than ${VALIDATION_PARAMETER}`);
    this.metadataWrites.set(key, value.length === 0 ? null : Buffer.from(value));
  }

  /** As on a peer, reading a key's metadata reads the key (its version enters the read set). */
  async handleGetStateMetadata(collection: string, key: string): Promise<Record<string, Buffer>> {
    this.checkOpen(collection);
    const found = this.state.get(key);
    this.reads.set(key, found === undefined ? null : found.version);
    const parameter = found === undefined ? undefined : this.state.validationParameter?.(key);
    return parameter === undefined ? {} : { [VALIDATION_PARAMETER]: Buffer.from(parameter) };
  }
  async handleInvokeChaincode(): Promise<never> {
    throw unsupported('chaincode-to-chaincode calls');
  }

  private recordingIterator(startKey: string, endKey: string): ShimIterator<ShimKV> {
    const read: RangeRead = { startKey, endKey, keys: [], exhausted: false };
    this.rangeReads.push(read);
    const source = this.state.range(startKey, endKey)[Symbol.iterator]();
    return {
      next: async () => {
        this.checkOpen('');
        const step = source.next();
        if (step.done === true) {
          read.exhausted = true;
          return { done: true, value: undefined };
        }
        read.keys.push({ key: step.value.key, version: step.value.version });
        return { done: false, value: { key: step.value.key, value: Buffer.from(step.value.value) } };
      },
      close: async () => {
        source.return?.();
      },
    };
  }

  private paginatedRange(startKey: string, endKey: string, query: peer.QueryMetadata) {
    if (this.writes.size > 0) {
      throw new Error('paginated queries are only supported in read-only transactions (this one has writes)');
    }
    this.paginatedQueryPerformed = true;
    const pageSize = query.getPagesize();
    if (pageSize <= 0) throw new Error('pageSize must be greater than zero');
    const from = query.getBookmark() === '' ? startKey : query.getBookmark();
    const page: ({ key: string } & VersionedValue)[] = [];
    let bookmark = '';
    for (const entry of this.state.range(from, endKey)) {
      if (page.length === pageSize) {
        bookmark = entry.key;
        break;
      }
      page.push(entry);
    }
    this.rangeReads.push({
      startKey: from,
      endKey,
      keys: page.map((e) => ({ key: e.key, version: e.version })),
      exhausted: bookmark === '',
    });
    return {
      iterator: arrayIterator(page.map((e) => ({ key: e.key, value: Buffer.from(e.value) }))),
      metadata: { bookmark, fetchedRecordsCount: page.length },
    };
  }

  private checkOpen(collection: string): void {
    if (this.done) throw new Error('the transaction simulation has ended');
    if (collection !== '') throw unsupported('private data');
  }

  private checkWrite(collection: string, key: string): void {
    this.checkOpen(collection);
    if (this.paginatedQueryPerformed) {
      throw new Error('writes are not allowed in a transaction that performed a paginated query');
    }
    if (key === '') throw new Error('key must not be an empty string');
    if (LONE_SURROGATE.test(key)) throw new Error(`key is not a valid UTF-8 string: ${JSON.stringify(key)}`);
  }
}

function arrayIterator<T>(items: T[]): ShimIterator<T> {
  let i = 0;
  return {
    next: async () => (i < items.length ? { done: false, value: items[i++] } : { done: true, value: undefined }),
    close: async () => {},
  };
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const unsupported = (what: string) => new Error(`${what} is not supported by the embedded peer`);
