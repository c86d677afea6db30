import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHmac, createSecretKey } from "node:crypto";
import fc from "fast-check";
import {
  MAX_PACKET,
  NEVER,
  decode,
  encode,
  overheadBytes,
  rumourBytes,
  type Message,
} from "./wire.ts";

const key = createSecretKey(Buffer.from("the cluster's heartbeat key"));
const otherKey = createSecretKey(Buffer.from("somebody else's key"));

const heartbeat: Message = {
  type: "heartbeat",
  sender: "node-a",
  receiver: "node-b",
  incarnation: 1_700_000_000_123,
  sentAt: 1_700_000_000_456,
  seq: 42,
  rumours: [
    { name: "node-b", incarnation: 1_699_999_999_000, dead: true },
    { name: "node-c", incarnation: 7, dead: false },
  ],
};

describe("wire", () => {
  it("round-trips every kind of message", () => {
    const messages: Message[] = [
      heartbeat,
      { type: "probe", sender: "a", receiver: "b", incarnation: 1, sentAt: 9, seq: 1, rumours: [] },
      { type: "ack", sender: "a", receiver: "b", incarnation: 1, sentAt: 9, seq: 2, rumours: [] },
      {
        type: "query",
        sender: "a",
        receiver: "b",
        incarnation: 1,
        sentAt: 9,
        seq: 3,
        subject: "b",
        rumours: [],
      },
      {
        type: "answer",
        sender: "a",
        receiver: "b",
        incarnation: 1,
        sentAt: 9,
        seq: 4,
        subject: "b",
        age: 17,
        rumours: [],
      },
      {
        type: "answer",
        sender: "a",
        receiver: "b",
        incarnation: 1,
        sentAt: 2 ** 48 - 1,
        seq: 5,
        subject: "b",
        age: NEVER,
        rumours: [],
      },
      {
        type: "notice",
        sender: "a",
        receiver: "b",
        incarnation: 1,
        sentAt: 9,
        seq: 6,
        rumours: heartbeat.rumours,
      },
      {
        type: "alive",
        sender: "a",
        receiver: "b",
        incarnation: 2 ** 48 - 1,
        sentAt: 9,
        seq: 2 ** 32 - 1,
        rumours: [],
      },
    ];
    for (const message of messages) {
      const decoded = decode(encode(message, key), [key]);
      assert.deepEqual(decoded, { ok: true, message });
    }
  });

  it("signs who it is from and whom it is for: changing either breaks the tag", () => {
    const packet = encode(heartbeat, key);
    const at = packet.indexOf("node-b", 20);
    const redirected = Buffer.from(packet);
    redirected.write("node-c", at);
    assert.deepEqual(decode(redirected, [key]), { ok: false, reason: "unauthenticated" });
    const impersonated = Buffer.from(packet);
    impersonated.write("node-x", packet.indexOf("node-a", 20));
    assert.deepEqual(decode(impersonated, [key]), { ok: false, reason: "unauthenticated" });
  });

  it("refuses a packet signed with another key, and accepts it when that key is listed", () => {
    const packet = encode(heartbeat, otherKey);
    assert.deepEqual(decode(packet, [key]), { ok: false, reason: "unauthenticated" });
    assert.equal(decode(packet, [key, otherKey]).ok, true);
  });

  it("refuses any packet with one byte changed", () => {
    const packet = encode(heartbeat, key);
    for (let i = 0; i < packet.length; i++) {
      const changed = Buffer.from(packet);
      changed[i] = changed[i]! ^ 0x01;
      const decoded = decode(changed, [key]);
      assert.equal(decoded.ok, false, `byte ${i}`);
      // The first three bytes say what the packet is; past them only the tag can tell.
      assert.equal(decoded.ok || decoded.reason, i < 3 ? "malformed" : "unauthenticated");
    }
  });

  it("calls short, long and foreign datagrams malformed", () => {
    const packet = encode(heartbeat, key);
    assert.deepEqual(decode(packet.subarray(0, 20), [key]), { ok: false, reason: "malformed" });
    assert.deepEqual(decode(Buffer.alloc(MAX_PACKET + 1), [key]), {
      ok: false,
      reason: "malformed",
    });
    assert.deepEqual(decode(Buffer.from("GET / HTTP/1.1\r\n\r\n".repeat(4)), [key]), {
      ok: false,
      reason: "malformed",
    });
  });

  it("calls an authentic packet whose body does not parse malformed", () => {
    // Signed correctly but one byte short of its declared rumour: a peer with a bug, or
    // a newer version with a longer body.
    const packet = encode(heartbeat, key);
    const body = packet.subarray(0, packet.length - 32 - 1);
    const resigned = Buffer.concat([body, Buffer.alloc(32)]);
    createHmac("sha256", key).update(body).digest().copy(resigned, body.length);
    assert.deepEqual(decode(resigned, [key]), { ok: false, reason: "malformed" });
  });

  it("sizes packets as encode does, and refuses one over MAX_PACKET", () => {
    const packet = encode(heartbeat, key);
    const expected =
      overheadBytes("node-a", "node-b", "heartbeat") +
      rumourBytes("node-b") +
      rumourBytes("node-c");
    assert.equal(packet.length, expected);
    const many = Array.from({ length: 60 }, (_, i) => ({
      name: `node-with-a-rather-long-name-${i}`,
      incarnation: i,
      dead: true,
    }));
    assert.throws(() => encode({ ...heartbeat, rumours: many }, key), RangeError);
  });

  it("refuses names Kubernetes would refuse", () => {
    assert.throws(() => encode({ ...heartbeat, sender: "x".repeat(254) }, key), RangeError);
    assert.throws(() => encode({ ...heartbeat, receiver: "x".repeat(254) }, key), RangeError);
  });

  it("decodes what it encodes, and never throws on arbitrary bytes", () => {
    const name = fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 40 });
    const message = fc.record({
      type: fc.constantFrom("heartbeat", "probe", "ack", "notice", "alive") as fc.Arbitrary<
        Message["type"]
      >,
      sender: name,
      receiver: name,
      incarnation: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
      sentAt: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
      seq: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      rumours: fc.array(
        fc.record({
          name,
          incarnation: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
          dead: fc.boolean(),
        }),
        { maxLength: 15 },
      ),
    });
    fc.assert(
      fc.property(message, (generated) => {
        // fast-check builds objects without a prototype; deepEqual compares prototypes.
        const m = JSON.parse(JSON.stringify(generated)) as Message;
        assert.deepEqual(decode(encode(m, key), [key]), { ok: true, message: m });
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1300 }), (bytes) => {
        const packet = Buffer.from(bytes);
        // Make some of them look like ours so that the later checks run too.
        if (packet.length > 3) packet.set([0x48, 0x42, 2], 0);
        assert.equal(decode(packet, [key]).ok, false);
      }),
    );
  });
});
