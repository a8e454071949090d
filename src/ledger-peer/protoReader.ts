/**
 * A minimal protobuf reader for the few fields the peer reads from every proposal (header,
 * creator, nonce, chaincode name, arguments, transient map): google-protobuf builds an
 * object for each of the seven nested messages, every field of each, to be read through
 * getters. This one walks the wire format and hands out views of the bytes asked for; fields
 * not asked for are skipped. As google-protobuf: the last occurrence of a singular field wins,
 * a repeated field keeps every occurrence, unknown fields are ignored, and bytes that do not
 * parse (truncated, a wire type that cannot be, a field read here of the wrong wire type)
 * throw. A field not read here is skipped whatever its wire type, as protobuf-go (Fabric's
 * peer) reads a field of the wrong wire type as unknown; google-protobuf refuses it.
 * test/unit/ledger-peer/protoReader.test.ts checks it against google-protobuf.
 */

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;

export class ProtoReader {
  readonly #buf: Uint8Array;
  #pos = 0;
  #wire = 0;
  field = 0;

  constructor(buf: Uint8Array) {
    this.#buf = buf;
  }

  /** Moves to the next field; false at the end of the message. */
  next(): boolean {
    if (this.#pos >= this.#buf.length) return false;
    const tag = this.#varint();
    this.field = Math.floor(tag / 8);
    this.#wire = tag % 8;
    if (this.field === 0) throw new Error('field number 0');
    return true;
  }

  /** The current field's bytes (bytes, string or message), as a view of the input. */
  bytes(): Uint8Array {
    this.#expect(WIRE_BYTES);
    const length = this.#varint();
    const end = this.#pos + length;
    if (end > this.#buf.length) throw new Error('truncated field');
    const value = this.#buf.subarray(this.#pos, end);
    this.#pos = end;
    return value;
  }

  string(): string {
    const b = this.bytes();
    return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
  }

  /** An int32 or enum field, as google-protobuf reads it (the low 32 bits, signed). */
  int32(): number {
    this.#expect(WIRE_VARINT);
    return Number(BigInt.asIntN(32, this.#varint64()));
  }

  /** An int64 field as a number, as google-protobuf's default (JS_NUMBER) int64 reads it. */
  int64(): number {
    this.#expect(WIRE_VARINT);
    return Number(BigInt.asIntN(64, this.#varint64()));
  }

  /** Skips the current field whatever its wire type. */
  skip(): void {
    switch (this.#wire) {
      case WIRE_VARINT:
        this.#varint64();
        return;
      case WIRE_FIXED64:
        this.#advance(8);
        return;
      case WIRE_BYTES:
        this.bytes();
        return;
      case WIRE_FIXED32:
        this.#advance(4);
        return;
      default:
        // Groups (3, 4) are not in any proto3 message the peer reads; 6 and 7 do not exist.
        throw new Error(`wire type ${this.#wire}`);
    }
  }

  #expect(wire: number): void {
    if (this.#wire !== wire) throw new Error(`field ${this.field} has wire type ${this.#wire}`);
  }

  #advance(n: number): void {
    if (this.#pos + n > this.#buf.length) throw new Error('truncated field');
    this.#pos += n;
  }

  /** A varint that fits in a safe integer (tags and lengths). */
  #varint(): number {
    let value = 0;
    for (let shift = 1; shift < 2 ** 49; shift *= 128) {
      const byte = this.#buf[this.#pos++];
      if (byte === undefined) throw new Error('truncated varint');
      value += (byte & 0x7f) * shift;
      if (byte < 0x80) return value;
    }
    throw new Error('varint too long');
  }

  /** A full 64-bit varint (at most ten bytes), unsigned. */
  #varint64(): bigint {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const byte = this.#buf[this.#pos++];
      if (byte === undefined) throw new Error('truncated varint');
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return BigInt.asUintN(64, value);
    }
    throw new Error('varint too long');
  }
}

/** Each field of `bytes` in order: `read(reader)` reads the current field or calls skip(). */
export function readFields(bytes: Uint8Array, read: (reader: ProtoReader) => void): void {
  const reader = new ProtoReader(bytes);
  while (reader.next()) read(reader);
}
