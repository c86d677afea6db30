import { test } from "node:test";
import assert from "node:assert/strict";
import { placeOn, regexProblems, subnetsOf } from "./placement.ts";
import type { KernelInterface } from "./kernel/interfaces.ts";

const ETH0: KernelInterface = {
  name: "eth0",
  index: 2,
  up: true,
  loopback: false,
  mtu: 1500,
  virtual: false,
  addresses: [
    { address: "192.0.2.11", family: "IPv4", prefixLength: 24, owned: false, noprefixroute: false },
    { address: "192.0.2.200", family: "IPv4", prefixLength: 32, owned: true, noprefixroute: true },
    { address: "fd00::11", family: "IPv6", prefixLength: 64, owned: false, noprefixroute: false },
    { address: "fe80::1", family: "IPv6", prefixLength: 64, owned: false, noprefixroute: false },
  ],
};
const LO: KernelInterface = { ...ETH0, name: "lo", index: 1, loopback: true, addresses: [] };

test("a node publishes its usable interfaces with the operator's subnets only", () => {
  assert.deepEqual(subnetsOf([LO, ETH0]), [
    { name: "eth0", subnets: ["192.0.2.11/24", "fd00::11/64"] },
  ]);
});

test("published interfaces place an address exactly as the kernel's would", () => {
  const published = subnetsOf([LO, ETH0]);
  for (const [address, regexes] of [
    ["192.0.2.50", []],
    ["fd00::50", []],
    ["198.51.100.1", []],
    ["198.51.100.1", ["^eth"]],
    ["192.0.2.50", ["^bond"]],
  ] as [string, string[]][]) {
    assert.deepEqual(
      placeOn(address, published, regexes),
      placeOn(address, [LO, ETH0], regexes),
      `${address} ${regexes.join(",")}`,
    );
  }
  assert.deepEqual(placeOn("192.0.2.50", published, []), { interface: "eth0" });
});

test("invalid regexes are named", () => {
  assert.deepEqual(regexProblems(["^eth", "bond("]).length, 1);
  assert.match(regexProblems(["bond("])[0] ?? "", /bond\(/);
  assert.deepEqual(regexProblems([]), []);
});
