import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSecretKey } from "node:crypto";
import { Keyring } from "./keyring.ts";
import { decode, encode } from "./wire.ts";

const oldKey = Buffer.from("old key");
const newKey = Buffer.from("new key");
const message = {
  type: "heartbeat" as const,
  sender: "a",
  receiver: "b",
  incarnation: 1,
  sentAt: 1,
  seq: 1,
  rumours: [],
};

/** Which of the two keys a KeyObject is, told apart by what it signs. */
function which(ring: Keyring, now: number): string {
  const packet = encode(message, ring.signing(now));
  if (decode(packet, [createSecretKey(oldKey)]).ok) return "old";
  if (decode(packet, [createSecretKey(newKey)]).ok) return "new";
  return "?";
}

function accepts(ring: Keyring, now: number, key: Buffer): boolean {
  return decode(encode(message, createSecretKey(key)), ring.accepted(now)).ok;
}

describe("Keyring", () => {
  it("signs with the old key for half the grace period, accepting both until it ends", () => {
    const ring = new Keyring(oldKey, 10_000);
    assert.equal(which(ring, 0), "old");
    assert.equal(accepts(ring, 0, newKey), false);

    assert.equal(ring.set(newKey, 1_000), true);
    assert.equal(which(ring, 1_000), "old");
    assert.equal(which(ring, 5_999), "old");
    assert.equal(which(ring, 6_000), "new");
    for (const now of [1_000, 6_000, 10_999]) {
      assert.equal(accepts(ring, now, oldKey), true, `old at ${now}`);
      assert.equal(accepts(ring, now, newKey), true, `new at ${now}`);
    }
    assert.equal(accepts(ring, 11_000, oldKey), false);
    assert.equal(accepts(ring, 11_000, newKey), true);
  });

  it("ignores a resync of the same key", () => {
    const ring = new Keyring(oldKey, 10_000);
    assert.equal(ring.set(Buffer.from(oldKey), 5), false);
    assert.equal(accepts(ring, 6, newKey), false);
  });

  it("lets two nodes that learn of a rotation apart by less than half the grace talk throughout", () => {
    const a = new Keyring(oldKey, 10_000);
    const b = new Keyring(oldKey, 10_000);
    a.set(newKey, 1_000);
    b.set(newKey, 5_900);
    for (let now = 0; now < 20_000; now += 50) {
      assert.equal(decode(encode(message, a.signing(now)), b.accepted(now)).ok, true, `a→b ${now}`);
      assert.equal(decode(encode(message, b.signing(now)), a.accepted(now)).ok, true, `b→a ${now}`);
    }
  });

  it("refuses an empty key", () => {
    assert.throws(() => new Keyring(Buffer.alloc(0)), RangeError);
  });
});
