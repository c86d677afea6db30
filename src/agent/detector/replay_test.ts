import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MAX_REMEMBERED, MAX_SKEW_MS, ReplayWindow } from "./replay.ts";

const NOW = 1_800_000_000_000;

describe("ReplayWindow", () => {
  it("takes each packet once, in any order, while it is within the skew of our clock", () => {
    const window = new ReplayWindow();
    assert.equal(window.check(NOW, 1, NOW), "fresh");
    assert.equal(window.check(NOW, 1, NOW + 5), "replayed");
    assert.equal(window.check(NOW, 2, NOW + 5), "fresh", "same millisecond, next number");
    assert.equal(window.check(NOW - 100, 7, NOW + 5), "fresh", "overtaken, then arrived");
    assert.equal(window.check(NOW - 100, 7, NOW + 6), "replayed");
    assert.equal(window.check(NOW - MAX_SKEW_MS - 1, 9, NOW), "stale");
    assert.equal(window.check(NOW + MAX_SKEW_MS + 1, 9, NOW), "stale");
    // The copy of a packet is still refused when it is replayed just inside the window's end…
    assert.equal(window.check(NOW, 1, NOW + MAX_SKEW_MS), "replayed");
    // …and past it, as stale: forgetting it loses nothing.
    assert.equal(window.check(NOW, 1, NOW + MAX_SKEW_MS + 1), "stale");
  });

  it("a packet numbered far ahead does not shut out the real sender (failed with the IPsec window)", () => {
    const window = new ReplayWindow();
    // Forged by a key holder: the highest incarnation and sequence, sent "now".
    assert.equal(window.check(NOW, 2 ** 32 - 1, NOW), "fresh");
    for (let i = 1; i <= 50; i++)
      assert.equal(window.check(NOW + i * 100, i, NOW + i * 100), "fresh");
  });

  it("remembers a bounded number of packets, dropping the oldest, never refusing the newest", () => {
    const window = new ReplayWindow();
    for (let i = 0; i < MAX_REMEMBERED + 100; i++) assert.equal(window.check(NOW, i, NOW), "fresh");
    assert.ok(window.size <= MAX_REMEMBERED + 1);
    assert.equal(window.check(NOW, MAX_REMEMBERED + 99, NOW), "replayed");
  });

  it("agrees with a set of everything seen within the skew", () => {
    const event = fc.record({
      sentAt: fc.integer({ min: -40_000, max: 40_000 }),
      seq: fc.integer({ min: 0, max: 5 }),
      advance: fc.integer({ min: 0, max: 5_000 }),
    });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 300 }), (events) => {
        const window = new ReplayWindow();
        const seen = new Set<string>();
        let now = NOW;
        for (const { sentAt, seq, advance } of events) {
          now += advance;
          const at = now + sentAt;
          const key = `${at}:${seq}`;
          const expected =
            Math.abs(at - now) > MAX_SKEW_MS ? "stale" : seen.has(key) ? "replayed" : "fresh";
          assert.equal(window.check(at, seq, now), expected);
          if (expected === "fresh") seen.add(key);
        }
      }),
    );
  });
});
