/**
 * A minimal protobuf (proto3) writer for the messages the peer builds on every endorsement
 * (the KVRWSet and the transaction envelope around it). google-protobuf builds an object per
 * message, copies each field through setters and a BinaryWriter, and serializes nested
 * messages again at every level: about 90 µs of the event loop per lease, here a few. The
 * output is byte for byte what google-protobuf's serializeBinary writes for the same fields
 * (fields in number order, proto3 defaults left out, a set sub-message written even when
 * empty, strings encoded as its encoder does), which test/unit/ledger-peer/protoWriter.test.ts
 * checks against it.
 */

const WIRE_VARINT = 0;
const WIRE_BYTES = 2;
const SURROGATE = /[\ud800-\udfff]/;

export class ProtoWriter {
  readonly #parts: Uint8Array[] = [];
  #length = 0;

  /** A bytes field; proto3 leaves an empty one out. */
  bytes(field: number, value: Uint8Array): this {
    if (value.length > 0) this.#delimited(field, value);
    return this;
  }

  /** A string field (UTF-8); proto3 leaves an empty one out. */
  string(field: number, value: string): this {
    return value === '' ? this : this.bytes(field, protoUtf8(value));
  }

  /** A message field: written when set, even when its encoding is empty. */
  message(field: number, encoded: Uint8Array): this {
    this.#delimited(field, encoded);
    return this;
  }

  /** An int32, uint64 or enum field (a safe integer); proto3 leaves 0 out. */
  varint(field: number, value: number): this {
    if (value !== 0) this.#push(varintBytes((field << 3) | WIRE_VARINT, value));
    return this;
  }

  /** A bool field; proto3 leaves false out. */
  bool(field: number, value: boolean): this {
    return this.varint(field, value ? 1 : 0);
  }

  finish(): Buffer {
    return Buffer.concat(this.#parts, this.#length);
  }

  #delimited(field: number, value: Uint8Array): void {
    const tag = (field << 3) | WIRE_BYTES;
    const header = Buffer.allocUnsafe(varintSize(tag) + varintSize(value.length));
    writeVarint(header, writeVarint(header, 0, tag), value.length);
    this.#push(header);
    this.#push(value);
  }

  #push(part: Uint8Array): void {
    this.#parts.push(part);
    this.#length += part.length;
  }
}

function varintBytes(tag: number, value: number): Buffer {
  const out = Buffer.allocUnsafe(varintSize(tag) + varintSize(value));
  writeVarint(out, writeVarint(out, 0, tag), value);
  return out;
}

/** A negative int32 is written as its 64-bit two's complement: ten bytes, as protobuf does. */
function varintSize(value: number): number {
  if (value < 0) return 10;
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    size++;
  }
  return size;
}

function writeVarint(out: Buffer, at: number, value: number): number {
  if (value < 0) {
    let big = BigInt.asUintN(64, BigInt(value));
    while (big >= 0x80n) {
      out[at++] = Number(big & 0x7fn) | 0x80;
      big >>= 7n;
    }
    out[at++] = Number(big);
    return at;
  }
  while (value >= 0x80) {
    out[at++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[at++] = value;
  return at;
}

/** UTF-8 as google-protobuf's encoder writes it: the same as Buffer's for well-formed text;
 * of an unpaired surrogate it drops a high one followed by anything and writes any other as
 * three bytes (Buffer would write U+FFFD), so such a key encodes as it always did. */
export function protoUtf8(value: string): Buffer {
  if (!SURROGATE.test(value)) return Buffer.from(value, 'utf8');
  const out: number[] = [];
  for (let i = 0; i < value.length; i++) {
    let c = value.charCodeAt(i);
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push((c >> 6) | 0xc0, (c & 0x3f) | 0x80);
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length) {
      const low = value.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        c = (c - 0xd800) * 0x400 + low - 0xdc00 + 0x10000;
        out.push((c >> 18) | 0xf0, ((c >> 12) & 0x3f) | 0x80, ((c >> 6) & 0x3f) | 0x80, (c & 0x3f) | 0x80);
        i++;
      }
    } else out.push((c >> 12) | 0xe0, ((c >> 6) & 0x3f) | 0x80, (c & 0x3f) | 0x80);
  }
  return Buffer.from(out);
}
