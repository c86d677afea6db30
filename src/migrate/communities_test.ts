import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CommunitySet, parseCommunity } from "./communities.ts";

describe("parseCommunity", () => {
  it("reads every form the peers write", () => {
    assert.deepEqual(parseCommunity("65000:100"), { standard: "65000:100" });
    assert.deepEqual(parseCommunity(" No-Export "), { standard: "no-export" });
    assert.deepEqual(parseCommunity("large:64512:1:2"), { large: "64512:1:2" });
    assert.deepEqual(parseCommunity("4294967295:0:7"), { large: "4294967295:0:7" });
    // Cilium's 32-bit decimal and the well-known names Herald spells as numbers.
    assert.deepEqual(parseCommunity("4259840100"), { standard: "65000:100" });
    assert.deepEqual(parseCommunity("planned-shut"), { standard: "65535:0" });
    assert.deepEqual(parseCommunity("internet"), { standard: "0:0" });
    assert.deepEqual(parseCommunity("00065:01"), { standard: "65:1" });
  });

  it("says why a value is not a community", () => {
    assert.match((parseCommunity("65536:1") as { error: string }).error, /0 to 65535/);
    assert.match((parseCommunity("1:2:4294967296") as { error: string }).error, /0 to 4294967295/);
    assert.match((parseCommunity("gold") as { error: string }).error, /is not a community/);
  });
});

describe("CommunitySet", () => {
  it("sorts into standard and large, without duplicates, in input order", () => {
    const set = new CommunitySet();
    for (const text of ["2:2", "1:1:1", "1:1", "2:2", "1:1:1"]) {
      set.add(parseCommunity(text) as { standard: string });
    }
    assert.deepEqual(set.standard, ["2:2", "1:1"]);
    assert.deepEqual(set.large, ["1:1:1"]);
  });
});
