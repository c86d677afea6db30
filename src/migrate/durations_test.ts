import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseGoDuration } from "./durations.ts";

describe("parseGoDuration", () => {
  it("reads Go's duration syntax in seconds", () => {
    assert.deepEqual(parseGoDuration("90s"), { seconds: 90 });
    assert.deepEqual(parseGoDuration("1m30s"), { seconds: 90 });
    assert.deepEqual(parseGoDuration("1h"), { seconds: 3600 });
    assert.deepEqual(parseGoDuration("1.5s"), { seconds: 1.5 });
    assert.deepEqual(parseGoDuration("500ms"), { seconds: 0.5 });
    assert.deepEqual(parseGoDuration("0"), { seconds: 0 });
  });

  it("refuses what Go refuses", () => {
    for (const text of ["", "90", "s", "1m30", "ninety seconds", "-3s"]) {
      assert.ok("error" in parseGoDuration(text), text);
    }
  });
});
