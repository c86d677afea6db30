import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WELL_KNOWN_COMMUNITIES } from "../../api/bgpadvertisement.ts";
import { compareTuples, parseCommunity, parseLargeCommunity } from "./communities.ts";

describe("parseCommunity", () => {
  it("takes two 16-bit numbers", () => {
    assert.deepEqual(parseCommunity("65000:100"), [65000, 100]);
    assert.deepEqual(parseCommunity("0:65535"), [0, 65535]);
  });

  it("knows every name the CRD accepts, as its RFC number", () => {
    for (const name of WELL_KNOWN_COMMUNITIES) assert.ok(parseCommunity(name), name);
    assert.deepEqual(parseCommunity("no-export"), [65535, 65281]);
    assert.deepEqual(parseCommunity("blackhole"), [65535, 666]);
  });

  it("refuses anything else", () => {
    for (const text of [
      "65536:1",
      "1:65536",
      "1",
      "1:2:3",
      "a:b",
      "-1:2",
      " 1:2",
      "",
      "toString",
    ]) {
      assert.equal(parseCommunity(text), undefined, text);
    }
  });
});

describe("parseLargeCommunity", () => {
  it("takes three 32-bit numbers", () => {
    assert.deepEqual(parseLargeCommunity("4294967295:0:1"), [4294967295, 0, 1]);
  });

  it("refuses anything else", () => {
    for (const text of ["4294967296:0:1", "1:2", "1:2:3:4", "no-export", "1:2:x"]) {
      assert.equal(parseLargeCommunity(text), undefined, text);
    }
  });
});

describe("compareTuples", () => {
  it("orders numerically, element by element", () => {
    const sorted = [
      [65535, 0],
      [100, 2],
      [100, 10],
    ].sort(compareTuples);
    assert.deepEqual(sorted, [
      [100, 2],
      [100, 10],
      [65535, 0],
    ]);
  });
});
