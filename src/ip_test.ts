import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { canonicalAddress, formatAddress, isBuggyIPv4, parseAddress } from "./ip.ts";

describe("parseAddress", () => {
  it("reads dotted-quad IPv4 and IPv6 into bigints", () => {
    assert.deepEqual(parseAddress("192.168.10.240"), { family: "IPv4", value: 0xc0a80af0n });
    assert.deepEqual(parseAddress("2001:db8::1"), {
      family: "IPv6",
      value: (0x20010db8n << 96n) | 1n,
    });
    assert.deepEqual(parseAddress("::"), { family: "IPv6", value: 0n });
  });

  it("refuses what the API server refuses and what hides typos", () => {
    for (const text of [
      "10.1",
      "010.0.0.1",
      "0x7f.0.0.1",
      "256.0.0.1",
      "1.2.3.4.5",
      " 1.2.3.4",
      "fe80::1%eth0",
      "1::2::3",
      "2001:db8::/64",
      "",
      "web",
    ]) {
      assert.equal(parseAddress(text), undefined, text);
    }
  });
});

describe("formatAddress", () => {
  it("writes IPv6 the RFC 5952 way", () => {
    const cases: [string, string][] = [
      ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
      ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // first of two equal runs
      ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // a single zero group stays
      ["0:0:0:0:0:0:0:0", "::"],
      ["0:0:0:0:0:0:0:1", "::1"],
      ["1:0:0:0:0:0:0:0", "1::"],
      ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"], // the longer run wins
      ["::ffff:192.0.2.1", "::ffff:192.0.2.1"],
    ];
    for (const [input, expected] of cases) assert.equal(canonicalAddress(input), expected, input);
  });

  it("round-trips every address", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (value) => {
        const text = formatAddress({ family: "IPv6", value });
        assert.deepEqual(parseAddress(text), { family: "IPv6", value });
      }),
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), (value) => {
        assert.deepEqual(parseAddress(formatAddress({ family: "IPv4", value })), {
          family: "IPv4",
          value,
        });
      }),
    );
  });
});

describe("isBuggyIPv4", () => {
  it("flags addresses ending in .0 and .255 only", () => {
    assert.equal(isBuggyIPv4(parseAddress("10.0.1.0")!.value), true);
    assert.equal(isBuggyIPv4(parseAddress("10.0.1.255")!.value), true);
    assert.equal(isBuggyIPv4(parseAddress("10.0.1.1")!.value), false);
  });
});
