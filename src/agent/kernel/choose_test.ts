import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { chooseInterface, type InterfaceChoice } from "./choose.ts";
import { iface } from "../../../test/kernel-interfaces.ts";

// A node with the usual mix: an uplink, a storage network nested in a wider one, a second
// NIC on the same /24 as the uplink, loopback, kube-proxy's and the agent's own interfaces.
const NODE = [
  iface("lo", ["127.0.0.1/8", "::1/128"], { loopback: true }),
  iface("eth0", ["10.0.0.10/24", "fd00:10::10/64", "fe80::1/64", "10.0.0.50/32 owned"]),
  iface("eth1", ["10.0.0.11/24"]),
  iface("bond0", ["10.1.0.10/16"]),
  iface("bond0.20", ["10.1.20.10/24"]),
  iface("eth2", ["192.168.7.2/24"], { up: false }),
  // kube-proxy creates it down (flags BROADCAST,NOARP); it only holds Service addresses.
  iface("kube-ipvs0", ["172.20.0.1/32", "10.0.0.200/32"], { up: false, kind: "dummy" }),
  iface("kube-lb0", ["203.0.113.0/24 owned"], { virtual: true, kind: "bridge" }),
  iface("link0", ["169.254.3.1/16"]),
  iface("wg0", ["10.9.0.1/32"]),
  iface("port0", ["10.2.0.10/24"], { master: "br0" }),
];

const cases: {
  name: string;
  address: string;
  regexes?: string[];
  interfaces?: typeof NODE;
  want: InterfaceChoice;
}[] = [
  { name: "the subnet holding the address", address: "10.1.5.5", want: { interface: "bond0" } },
  { name: "longest prefix wins", address: "10.1.20.7", want: { interface: "bond0.20" } },
  { name: "equal prefixes: lowest name", address: "10.0.0.99", want: { interface: "eth0" } },
  { name: "IPv6", address: "fd00:10::99", want: { interface: "eth0" } },
  {
    name: "IPv6 written in capitals",
    address: "FD00:10:0:0::99",
    want: { interface: "eth0" },
  },
  {
    name: "no subnet holds it",
    address: "198.51.100.5",
    want: { error: "no interface on this node has a subnet containing 198.51.100.5" },
  },
  {
    name: "only a down interface's subnet holds it",
    address: "192.168.7.9",
    want: {
      error:
        "no interface on this node has a subnet containing 192.168.7.9 (eth2 has one but is down)",
    },
  },
  {
    name: "the agent's own aggregated routes are not subnets",
    address: "203.0.113.9",
    want: { error: "no interface on this node has a subnet containing 203.0.113.9" },
  },
  {
    name: "link-local prefixes are not subnets",
    address: "169.254.3.9",
    want: { error: "no interface on this node has a subnet containing 169.254.3.9" },
  },
  {
    name: "IPv6 link-local prefixes are not subnets",
    address: "fe80::99",
    want: { error: "no interface on this node has a subnet containing fe80::99" },
  },
  {
    name: "bridge ports are passed over (their master holds the subnet)",
    address: "10.2.0.99",
    want: { error: "no interface on this node has a subnet containing 10.2.0.99" },
  },
  {
    name: "not an address",
    address: "10.0.0",
    want: { error: '"10.0.0" is not an IP address' },
  },
  {
    name: "regex narrows the subnet rule",
    address: "10.0.0.99",
    regexes: ["^eth1$"],
    want: { interface: "eth1" },
  },
  {
    name: "regexes are used as written: unanchored matches part of a name",
    address: "10.1.20.7",
    regexes: ["bond"],
    want: { interface: "bond0.20" },
  },
  {
    name: "regex matching, no subnet: the first up interface of the first regex that matches",
    address: "198.51.100.5",
    regexes: ["^nothing$", "^eth[0-9]$", "^bond0$"],
    want: { interface: "eth0" },
  },
  {
    name: "regex order decides among explicit interfaces",
    address: "198.51.100.5",
    regexes: ["^bond0$", "^eth"],
    want: { interface: "bond0" },
  },
  {
    name: "regex fallback skips down interfaces",
    address: "198.51.100.5",
    regexes: ["^eth2$", "^eth1$"],
    want: { interface: "eth1" },
  },
  {
    name: "regex matching only down interfaces",
    address: "192.168.7.9",
    regexes: ["^eth2$"],
    want: { error: 'every interface on this node matching "^eth2$" is down (eth2)' },
  },
  {
    name: "regex matching nothing",
    address: "10.0.0.99",
    regexes: ["^ens", "^enp"],
    want: { error: 'no interface on this node matches "^ens", "^enp"' },
  },
  {
    name: "regex matching only excluded interfaces: loopback, bridge ports, the agent's own",
    address: "10.0.0.99",
    regexes: ["^lo$", "^port0$", "^kube-lb"],
    want: { error: 'no interface on this node matches "^lo$", "^port0$", "^kube-lb"' },
  },
  {
    name: "kube-ipvs0 is down, so never chosen",
    address: "10.0.0.200",
    regexes: ["^kube-"],
    want: { error: 'every interface on this node matching "^kube-" is down (kube-ipvs0)' },
  },
  {
    name: "invalid regex is reported, not thrown, even beside a valid one",
    address: "10.0.0.99",
    regexes: ["^eth0$", "eth[", "bond(0"],
    want: {
      error:
        'interface regex "eth[" is invalid: Invalid regular expression: /eth[/u: Unterminated character class; ' +
        'interface regex "bond(0" is invalid: Invalid regular expression: /bond(0/u: Unterminated group',
    },
  },
  {
    name: "empty regex list means no regexes",
    address: "10.1.5.5",
    regexes: [],
    want: { interface: "bond0" },
  },
];

describe("chooseInterface", () => {
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(chooseInterface(c.address, c.interfaces ?? NODE, c.regexes), c.want);
    });
  }

  it("does not depend on the order the kernel lists interfaces in", () => {
    const reversed = [...NODE].reverse();
    for (const address of ["10.0.0.99", "10.1.20.7", "fd00:10::99"]) {
      assert.deepEqual(chooseInterface(address, reversed), chooseInterface(address, NODE));
    }
  });

  it("ignores a subnet of the other family", () => {
    const node = [iface("eth0", ["::/0"]), iface("eth1", ["10.0.0.1/8"])];
    assert.deepEqual(chooseInterface("10.2.3.4", node), { interface: "eth1" });
  });
});
