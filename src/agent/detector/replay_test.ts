import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { REPLAY_WINDOW, ReplayWindow } from "./replay.ts";

describe("ReplayWindow", () => {
  it("accepts each (incarnation, seq) once, late ones within the window too", () => {
    const window = new ReplayWindow();
    assert.equal(window.accept(10, 5), true);
    assert.equal(window.accept(10, 5), false);
    assert.equal(window.accept(10, 7), true);
    assert.equal(window.accept(10, 6), true, "overtaken, then arrived");
    assert.equal(window.accept(10, 6), false);
    assert.equal(window.accept(10, 8 + REPLAY_WINDOW), true);
    assert.equal(window.accept(10, 8), true, "32 behind: still in the window");
    assert.equal(window.accept(10, 7 + REPLAY_WINDOW), true);
    assert.equal(window.accept(10, 7), false, "33 behind: too old");
  });

  it("starts over for a newer incarnation and refuses an older one", () => {
    const window = new ReplayWindow();
    assert.equal(window.accept(10, 1000), true);
    assert.equal(window.accept(11, 1), true);
    assert.equal(window.accept(11, 1), false);
    assert.equal(window.accept(10, 1001), false);
  });

  it("agrees with a set of everything seen, within the window", () => {
    const event = fc.record({
      incarnation: fc.integer({ min: 1, max: 3 }),
      seq: fc.integer({ min: 0, max: 100 }),
    });
    fc.assert(
      fc.property(fc.array(event, { maxLength: 300 }), (events) => {
        const window = new ReplayWindow();
        const seen = new Set<string>();
        let top = { incarnation: -1, seq: -1 };
        for (const { incarnation, seq } of events) {
          const expected =
            incarnation > top.incarnation ||
            (incarnation === top.incarnation &&
              seq > top.seq - REPLAY_WINDOW - 1 &&
              !seen.has(`${incarnation}/${seq}`));
          assert.equal(window.accept(incarnation, seq), expected);
          if (!expected) continue;
          seen.add(`${incarnation}/${seq}`);
          if (incarnation > top.incarnation || seq > top.seq) top = { incarnation, seq };
        }
      }),
    );
  });
});
