// The protobuf wire format, read field by field: a tag (field number and wire type) and
// then a varint, 8 or 4 fixed bytes, or a length-prefixed run. What the fields mean is
// the reader's business (see protobuf.ts); this only knows where each one ends.

export class ProtobufError extends Error {}

export const VARINT = 0;
const FIXED64 = 1;
export const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

export interface WireField {
  number: number;
  wireType: number;
  /** The value of a varint field. */
  varint: bigint;
  /** The payload of a length-delimited or fixed-width field. */
  bytes: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/** The fields of one message, in the order they were written. Throws ProtobufError. */
export function readFields(message: Uint8Array): WireField[] {
  const fields: WireField[] = [];
  let at = 0;
  const varint = (): bigint => {
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (at >= message.length) throw new ProtobufError("a varint runs past the end");
      const byte = message[at++]!;
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return BigInt.asUintN(64, value);
    }
    throw new ProtobufError("a varint is longer than 10 bytes");
  };
  const take = (length: number): Uint8Array => {
    if (length > message.length - at) throw new ProtobufError("a field runs past the end");
    const bytes = message.subarray(at, at + length);
    at += length;
    return bytes;
  };
  while (at < message.length) {
    const tag = varint();
    const number = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    if (number === 0) throw new ProtobufError("field number 0");
    if (wireType === VARINT) fields.push({ number, wireType, varint: varint(), bytes: EMPTY });
    else if (wireType === FIXED64) fields.push({ number, wireType, varint: 0n, bytes: take(8) });
    else if (wireType === FIXED32) fields.push({ number, wireType, varint: 0n, bytes: take(4) });
    else if (wireType === LENGTH_DELIMITED) {
      const length = varint();
      if (length > BigInt(message.length)) throw new ProtobufError("a field runs past the end");
      fields.push({ number, wireType, varint: 0n, bytes: take(Number(length)) });
    } else {
      // 3 and 4 are proto2 groups, which no Kubernetes type uses.
      throw new ProtobufError(`field ${number} has wire type ${wireType}`);
    }
  }
  return fields;
}
