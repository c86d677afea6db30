import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { isBuggyIPv4 } from "../ip.ts";
import {
  alignedTo,
  countBuggyIPv4,
  formatRange,
  parseRange,
  rangeSize,
  type AddressRange,
} from "./range.ts";

function range(text: string): AddressRange {
  const parsed = parseRange(text);
  if ("error" in parsed) throw new Error(parsed.error);
  return parsed.range;
}

function error(text: string): string {
  const parsed = parseRange(text);
  assert.ok("error" in parsed, `${text} should be refused`);
  return parsed.error;
}

describe("parseRange", () => {
  it("reads CIDRs, dash ranges and single addresses", () => {
    assert.equal(rangeSize(range("10.0.5.0/28")), 16n);
    assert.equal(rangeSize(range("192.168.10.240-192.168.10.250")), 11n);
    assert.equal(rangeSize(range("192.168.10.240 - 192.168.10.250")), 11n);
    assert.equal(rangeSize(range("10.0.0.7")), 1n);
    assert.equal(rangeSize(range("2001:db8:10::/64")), 1n << 64n);
    assert.equal(rangeSize(range("0.0.0.0/0")), 1n << 32n);
  });

  it("explains what is wrong", () => {
    assert.match(error("10.0.0.9-10.0.0.1"), /reversed.*10\.0\.0\.1-10\.0\.0\.9/);
    assert.match(error("10.0.0.1-2001:db8::1"), /mixes an IPv4 and an IPv6/);
    assert.match(error("10.0.0.5/24"), /host bits set; the network is 10\.0\.0\.0\/24/);
    assert.match(error("10.0.0.0/33"), /0 to 32/);
    assert.match(error("2001:db8::/129"), /0 to 128/);
    assert.match(error("10.0.0.0/"), /prefix length/);
    assert.match(error("10.0.0.0/24/8"), /not a CIDR/);
    assert.match(error("10.0.0.300-10.0.1.0"), /starts with "10\.0\.0\.300"/);
    assert.match(error("10.0.0.1-"), /ends with ""/);
    assert.match(error("pool-a"), /starts with "pool"/);
    assert.match(error("banana"), /not an IPv4 or IPv6 address/);
    assert.match(error("  "), /empty/);
  });
});

describe("formatRange", () => {
  it("prints the shortest equivalent text", () => {
    assert.equal(formatRange(range("10.0.0.0-10.0.0.255")), "10.0.0.0/24");
    assert.equal(formatRange(range("10.0.0.1-10.0.0.255")), "10.0.0.1-10.0.0.255");
    assert.equal(formatRange(range("2001:db8::/64")), "2001:db8::/64");
    assert.equal(formatRange(range("10.0.0.9")), "10.0.0.9");
  });
});

describe("alignedTo", () => {
  it("accepts an aggregation prefix only when its blocks stay inside the range", () => {
    assert.equal(alignedTo(range("10.0.0.0/24"), 24), true);
    assert.equal(alignedTo(range("10.0.0.0/24"), 28), true);
    assert.equal(alignedTo(range("10.0.0.0/24"), 23), false);
    assert.equal(alignedTo(range("10.0.0.10-10.0.0.20"), 32), true);
    assert.equal(alignedTo(range("10.0.0.10-10.0.0.20"), 31), false);
    assert.equal(alignedTo(range("2001:db8::/64"), 64), true);
    assert.equal(alignedTo(range("2001:db8::/64"), 48), false);
  });
});

describe("countBuggyIPv4", () => {
  it("matches counting one by one", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.integer({ min: 0, max: 2000 }),
        (start, length) => {
          const first = BigInt(start);
          const last = BigInt(Math.min(start + length, 2 ** 32 - 1));
          let expected = 0n;
          for (let v = first; v <= last; v++) if (isBuggyIPv4(v)) expected++;
          assert.equal(countBuggyIPv4({ family: "IPv4", first, last }), expected);
        },
      ),
    );
  });

  it("counts a /8 without walking it", () => {
    assert.equal(countBuggyIPv4(range("10.0.0.0/8")), 2n * 65536n);
    assert.equal(countBuggyIPv4(range("2001:db8::/64")), 0n);
  });
});
