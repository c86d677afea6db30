import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pool } from "../../test/fixtures.ts";
import { parseAddress } from "../ip.ts";
import { PoolSet } from "./pool-set.ts";

const at = (set: PoolSet, text: string) => {
  const address = parseAddress(text)!;
  return set.owner(address.family, address.value)?.name;
};

describe("PoolSet", () => {
  it("puts the newer of two overlapping pools in Conflict and keeps the older working", () => {
    const older = pool("zeta", { addresses: ["10.0.0.0/24"] }, "2026-01-01T00:00:00Z");
    const newer = pool(
      "alpha",
      { addresses: ["10.0.1.0/24", "10.0.0.128/25"] },
      "2026-02-01T00:00:00Z",
    );
    const set = new PoolSet([newer, older]);
    assert.equal(set.conflictOf("zeta"), undefined);
    const conflict = set.conflictOf("alpha");
    assert.equal(conflict?.olderPool, "zeta");
    assert.match(
      conflict!.message,
      /10\.0\.0\.128\/25 overlaps 10\.0\.0\.0\/24 of the older pool "zeta"/,
    );
    assert.deepEqual(
      set.searchOrder.map((p) => p.name),
      ["zeta"],
    );
    // The contested addresses belong to the older pool, the rest to the newer.
    assert.equal(at(set, "10.0.0.200"), "zeta");
    assert.equal(at(set, "10.0.1.5"), "alpha");
    assert.equal(at(set, "10.0.2.5"), undefined);
  });

  it("breaks an age tie by name, and counts pools not yet created as newest", () => {
    const a = pool("a", { addresses: ["10.0.0.1-10.0.0.5"] });
    const b = pool("b", { addresses: ["10.0.0.5-10.0.0.9"] });
    assert.equal(new PoolSet([b, a]).conflictOf("b")?.olderPool, "a");
    const created = pool("c", { addresses: ["10.0.0.0/24"] }, "2026-01-01T00:00:00Z");
    assert.equal(new PoolSet([a, created]).conflictOf("a")?.olderPool, "c");
  });

  it("orders pools by priority, unset last, then by name", () => {
    const set = new PoolSet([
      pool("d", { addresses: ["10.0.4.0/24"] }),
      pool("c", { addresses: ["10.0.3.0/24"], priority: 5 }),
      pool("b", { addresses: ["10.0.2.0/24"], priority: 1 }),
      pool("a", { addresses: ["10.0.1.0/24"] }),
      pool("e", { addresses: ["10.0.5.0/24"], priority: 1 }),
    ]);
    assert.deepEqual(
      set.searchOrder.map((p) => p.name),
      ["b", "e", "c", "a", "d"],
    );
  });

  it("finds owners in IPv6 pools without walking them", () => {
    const set = new PoolSet([pool("v6", { addresses: ["2001:db8:10::/64", "2001:db8:20::/48"] })]);
    assert.equal(at(set, "2001:db8:10::ffff:1"), "v6");
    assert.equal(at(set, "2001:db8:20:ffff::1"), "v6");
    assert.equal(at(set, "2001:db8:11::1"), undefined);
    assert.equal(at(set, "10.0.0.1"), undefined);
  });
});
