// The detector's datagrams: a fixed header, a body by type, the piggybacked rumours, and an
// HMAC-SHA256 tag over every byte before it. Pure: bytes in, bytes out.
//
//   0  "HB" version(2) type(1)
//   4  incarnation (u48)  sent at (u48, ms since the epoch, sender's clock)  sequence (u32)
//  20  sender (u8 length + bytes)  receiver (u8 length + bytes)
//      subject (u8 length + bytes)      query, answer
//      age (u32, ms; NEVER = never)      answer
//      rumours: count (u8), each: flags (u8, bit 0 = dead) incarnation (u48) name (u8 + bytes)
//  -32 HMAC-SHA256(key, everything above)
//
// The tag covers who sent the packet and whom it is for, so a packet captured on its way to
// one member is refused by every other (detector.ts drops what is not addressed to it), and
// the time it was sent, so a copy is refused once it is older than the receiver's window
// (replay.ts) — with no state a forged packet could push ahead of the genuine ones.
import { createHmac, timingSafeEqual, type KeyObject } from "node:crypto";

/**
 * Largest datagram: the IPv6 minimum MTU (1280) less the IPv6 and UDP headers, rounded
 * down, so a packet is never fragmented on any path (a lost fragment loses the packet).
 */
export const MAX_PACKET = 1200;
/** An answer's age when the answerer has never heard the subject. */
export const NEVER = 0xffffffff;
/** Kubernetes object names (node names) are DNS subdomains: at most 253 bytes. */
export const MAX_NAME = 253;
export const MAX_INCARNATION = 2 ** 48 - 1;
export const MAX_SEQ = 2 ** 32 - 1;
export const MAX_TIME = 2 ** 48 - 1;

const MAGIC_0 = 0x48; // "H"
const MAGIC_1 = 0x42; // "B"
const VERSION = 2;
const TAG = 32;
const FIXED_HEADER = 4 + 6 + 6 + 4;
const MAX_RUMOURS = 255;

export type MessageType = "heartbeat" | "probe" | "ack" | "query" | "answer" | "notice" | "alive";

// Codes are on the wire: append, never renumber.
const TYPES: readonly MessageType[] = [
  "heartbeat",
  "probe",
  "ack",
  "query",
  "answer",
  "notice",
  "alive",
];
const CODES = new Map(TYPES.map((type, code) => [type, code + 1]));

/** What one member believes of another: alive or dead at an incarnation (SWIM). */
export interface Rumour {
  readonly name: string;
  readonly incarnation: number;
  readonly dead: boolean;
}

export interface Message {
  type: MessageType;
  sender: string;
  /** The member the packet is for: any other refuses it. */
  receiver: string;
  /** The sender's incarnation: a newer one overrides any rumour of its death. */
  incarnation: number;
  /** When the sender sent it, by its clock (ms since the epoch); the replay check reads it. */
  sentAt: number;
  /** Tells apart packets sent in the same millisecond (the sender counts up, wrapping). */
  seq: number;
  /** query, answer: the member asked about. */
  subject?: string;
  /** answer: milliseconds since the answerer last heard the subject itself, or NEVER. */
  age?: number;
  rumours: readonly Rumour[];
}

export type Decoded =
  { ok: true; message: Message } | { ok: false; reason: "malformed" | "unauthenticated" };

const nameBytes = (name: string) => Buffer.byteLength(name, "utf8");

/** Bytes a rumour about `name` takes in a packet. */
export function rumourBytes(name: string): number {
  return 1 + 6 + 1 + nameBytes(name);
}

/** Bytes of a packet from `sender` (with `subject`, if any) before its rumours. */
export function overheadBytes(
  sender: string,
  receiver: string,
  type: MessageType,
  subject?: string,
): number {
  let size = FIXED_HEADER + 1 + nameBytes(sender) + 1 + nameBytes(receiver) + 1 + TAG;
  if (type === "query" || type === "answer") size += 1 + nameBytes(subject ?? "");
  if (type === "answer") size += 4;
  return size;
}

/** Encodes and signs `message`; a message that cannot be sent is a programmer's error. */
export function encode(message: Message, key: KeyObject): Buffer {
  const { type, sender, receiver, subject, rumours } = message;
  if (rumours.length > MAX_RUMOURS) throw new RangeError(`${rumours.length} rumours`);
  let size = overheadBytes(sender, receiver, type, subject);
  for (const rumour of rumours) size += rumourBytes(rumour.name);
  if (size > MAX_PACKET) throw new RangeError(`packet of ${size} bytes`);
  const packet = Buffer.allocUnsafe(size);
  packet[0] = MAGIC_0;
  packet[1] = MAGIC_1;
  packet[2] = VERSION;
  packet[3] = CODES.get(type)!;
  writeU48(packet, 4, message.incarnation);
  writeU48(packet, 10, message.sentAt);
  packet.writeUInt32BE(message.seq, 16);
  let at = writeName(packet, 20, sender);
  at = writeName(packet, at, receiver);
  if (type === "query" || type === "answer") at = writeName(packet, at, subject ?? "");
  if (type === "answer") at = packet.writeUInt32BE(message.age ?? NEVER, at);
  packet[at++] = rumours.length;
  for (const rumour of rumours) {
    packet[at++] = rumour.dead ? 1 : 0;
    writeU48(packet, at, rumour.incarnation);
    at = writeName(packet, at + 6, rumour.name);
  }
  sign(packet, size - TAG, key);
  return packet;
}

/**
 * Checks the tag against each of `keys` (the current key, then one being retired), then
 * reads the message. The tag is checked before the body is read, so an unauthenticated
 * packet costs one HMAC and no allocation beyond it.
 */
export function decode(packet: Buffer, keys: readonly KeyObject[]): Decoded {
  if (
    packet.length < FIXED_HEADER + 4 + 1 + TAG ||
    packet.length > MAX_PACKET ||
    packet[0] !== MAGIC_0 ||
    packet[1] !== MAGIC_1 ||
    packet[2] !== VERSION
  )
    return { ok: false, reason: "malformed" };
  const end = packet.length - TAG;
  let authentic = false;
  for (let i = 0; i < keys.length && !authentic; i++) authentic = verify(packet, end, keys[i]!);
  if (!authentic) return { ok: false, reason: "unauthenticated" };
  const type = TYPES[packet[3]! - 1];
  if (type === undefined) return { ok: false, reason: "malformed" };
  const reader = new Reader(packet, end);
  const incarnation = reader.u48();
  const sentAt = reader.u48();
  const seq = reader.u32();
  const sender = reader.name();
  const receiver = reader.name();
  const subject = type === "query" || type === "answer" ? reader.name() : undefined;
  const age = type === "answer" ? reader.u32() : undefined;
  const count = reader.u8();
  const rumours: Rumour[] = [];
  for (let i = 0; i < count && reader.ok; i++) {
    const flags = reader.u8();
    const rumourIncarnation = reader.u48();
    const name = reader.name();
    if (flags > 1) reader.ok = false;
    rumours.push({ name, incarnation: rumourIncarnation, dead: flags === 1 });
  }
  if (!reader.ok || reader.at !== end || sender === "" || receiver === "" || subject === "")
    return { ok: false, reason: "malformed" };
  const message: Message = { type, sender, receiver, incarnation, sentAt, seq, rumours };
  if (subject !== undefined) message.subject = subject;
  if (age !== undefined) message.age = age;
  return { ok: true, message };
}

function sign(packet: Buffer, end: number, key: KeyObject): void {
  createHmac("sha256", key).update(packet.subarray(0, end)).digest().copy(packet, end);
}

function verify(packet: Buffer, end: number, key: KeyObject): boolean {
  const expected = createHmac("sha256", key).update(packet.subarray(0, end)).digest();
  return timingSafeEqual(expected, packet.subarray(end));
}

function writeU48(packet: Buffer, at: number, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_TIME)
    throw new RangeError(`48-bit field ${value}`);
  packet.writeUIntBE(value, at, 6);
}

function writeName(packet: Buffer, at: number, name: string): number {
  const length = packet.write(name, at + 1, "utf8");
  if (length > MAX_NAME || length !== nameBytes(name)) throw new RangeError(`name ${name}`);
  packet[at] = length;
  return at + 1 + length;
}

/** Reads forward; a read past the end clears `ok` instead of throwing. */
class Reader {
  at = 4;
  ok = true;
  readonly #packet: Buffer;
  readonly #end: number;

  constructor(packet: Buffer, end: number) {
    this.#packet = packet;
    this.#end = end;
  }

  #take(bytes: number): boolean {
    if (!this.ok || this.at + bytes > this.#end) {
      this.ok = false;
      return false;
    }
    return true;
  }

  u8(): number {
    if (!this.#take(1)) return 0;
    return this.#packet[this.at++]!;
  }

  u32(): number {
    if (!this.#take(4)) return 0;
    const value = this.#packet.readUInt32BE(this.at);
    this.at += 4;
    return value;
  }

  u48(): number {
    if (!this.#take(6)) return 0;
    const value = this.#packet.readUIntBE(this.at, 6);
    this.at += 6;
    return value;
  }

  name(): string {
    const length = this.u8();
    if (!this.#take(length)) return "";
    const name = this.#packet.toString("utf8", this.at, this.at + length);
    this.at += length;
    return name;
  }
}
