import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAddrShow, VIRTUAL_INTERFACE_ALIAS } from "./interfaces.ts";

// Trimmed from `ip -j -d addr show` (iproute2 6.1, kernel 6.18) in a lab namespace.
const FIXTURE = [
  {
    ifindex: 1,
    ifname: "lo",
    flags: ["LOOPBACK", "UP", "LOWER_UP"],
    mtu: 65536,
    operstate: "UNKNOWN",
    link_type: "loopback",
    address: "00:00:00:00:00:00",
    addr_info: [
      { family: "inet", local: "127.0.0.1", prefixlen: 8, scope: "host" },
      { family: "inet6", local: "::1", prefixlen: 128, scope: "host" },
    ],
  },
  {
    ifindex: 2,
    ifname: "va",
    flags: ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
    mtu: 1500,
    operstate: "UP",
    link_type: "ether",
    address: "de:8a:01:ec:c1:77",
    linkinfo: { info_kind: "veth" },
    addr_info: [
      { family: "inet", local: "198.18.200.1", prefixlen: 24, scope: "global" },
      {
        family: "inet",
        local: "198.18.200.10",
        prefixlen: 32,
        metric: 7474,
        scope: "global",
        noprefixroute: true,
      },
      // An operator's address with noprefixroute but another metric: not Herald's.
      {
        family: "inet",
        local: "198.18.200.11",
        prefixlen: 32,
        metric: 100,
        noprefixroute: true,
      },
      // The metric alone is not the marker either.
      { family: "inet", local: "198.18.200.12", prefixlen: 32, metric: 7474 },
      {
        family: "inet6",
        local: "fd48:6b:0:0::10",
        prefixlen: 128,
        metric: 7474,
        nodad: true,
        noprefixroute: true,
      },
      { family: "inet6", local: "fd48:6b::1", prefixlen: 64, nodad: true },
      { family: "inet6", local: "fe80::dc8a:1ff:feec:c177", prefixlen: 64, scope: "link" },
    ],
  },
  {
    ifindex: 3,
    ifname: "dn",
    flags: ["BROADCAST", "MULTICAST", "M-DOWN"],
    mtu: 1500,
    operstate: "DOWN",
    address: "f2:72:a1:75:ef:1d",
    linkinfo: { info_kind: "veth" },
    addr_info: [],
  },
  {
    ifindex: 4,
    ifname: "port0",
    flags: ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
    mtu: 1500,
    master: "br0",
    operstate: "UP",
    address: "02:00:00:00:00:04",
    linkinfo: { info_kind: "veth", info_slave_kind: "bridge" },
    addr_info: [],
  },
  {
    ifindex: 5,
    ifname: "kube-lb0",
    flags: ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
    mtu: 1500,
    operstate: "UNKNOWN",
    address: "92:21:eb:4a:90:11",
    linkinfo: { info_kind: "bridge" },
    ifalias: VIRTUAL_INTERFACE_ALIAS,
    addr_info: [
      {
        family: "inet",
        local: "203.0.113.0",
        prefixlen: 24,
        metric: 7474,
        noprefixroute: true,
      },
    ],
  },
  {
    ifindex: 6,
    ifname: "wg0",
    flags: ["POINTOPOINT", "NOARP", "UP", "LOWER_UP"],
    mtu: 1420,
    operstate: "UNKNOWN",
    link_type: "none",
    linkinfo: { info_kind: "wireguard" },
    addr_info: [{ family: "inet", local: "10.9.0.1", address: "10.9.0.2", prefixlen: 32 }],
  },
  {
    ifindex: 7,
    ifname: "eth1.100",
    flags: ["BROADCAST", "MULTICAST", "UP"],
    mtu: 1500,
    operstate: "LOWERLAYERDOWN",
    address: "02:00:00:00:00:07",
    linkinfo: { info_kind: "vlan" },
    addr_info: [{ family: "inet", local: "192.0.2.1", prefixlen: 24 }],
  },
];

describe("parseAddrShow", () => {
  const interfaces = parseAddrShow(FIXTURE);
  const byName = new Map(interfaces.map((i) => [i.name, i]));

  it("reads every interface in kernel order", () => {
    assert.deepEqual(
      interfaces.map((i) => [i.index, i.name]),
      [
        [1, "lo"],
        [2, "va"],
        [3, "dn"],
        [4, "port0"],
        [5, "kube-lb0"],
        [6, "wg0"],
        [7, "eth1.100"],
      ],
    );
  });

  it("calls an interface up only when it is set up and its link is not down", () => {
    const up = (name: string) => byName.get(name)?.up;
    assert.equal(up("va"), true);
    assert.equal(up("lo"), true, "operstate UNKNOWN is normal for loopback and dummies");
    assert.equal(up("dn"), false);
    assert.equal(up("eth1.100"), false, "LOWERLAYERDOWN: its parent is down");
  });

  it("reads link details: kind, mac, master, loopback, the agent's alias", () => {
    const va = byName.get("va");
    assert.equal(va?.kind, "veth");
    assert.equal(va?.mac, "de:8a:01:ec:c1:77");
    assert.equal(va?.mtu, 1500);
    assert.equal(va?.loopback, false);
    assert.equal(va?.virtual, false);
    assert.equal(byName.get("lo")?.loopback, true);
    assert.equal(byName.get("lo")?.mac, undefined);
    assert.equal(byName.get("port0")?.master, "br0");
    assert.equal(byName.get("kube-lb0")?.virtual, true);
    assert.equal(byName.get("wg0")?.mac, undefined);
  });

  it("marks as owned exactly the addresses with noprefixroute and metric 7474", () => {
    const owned = interfaces.flatMap((i) =>
      i.addresses.filter((a) => a.owned).map((a) => `${i.name} ${a.address}/${a.prefixLength}`),
    );
    assert.deepEqual(owned, [
      "va 198.18.200.10/32",
      "va fd48:6b::10/128",
      "kube-lb0 203.0.113.0/24",
    ]);
  });

  it("writes addresses canonically and keeps family, prefix and peer", () => {
    const va = byName.get("va");
    assert.deepEqual(va?.addresses[4], {
      address: "fd48:6b::10",
      family: "IPv6",
      prefixLength: 128,
      owned: true,
      noprefixroute: true,
    });
    assert.deepEqual(byName.get("wg0")?.addresses, [
      {
        address: "10.9.0.1",
        family: "IPv4",
        prefixLength: 32,
        owned: false,
        noprefixroute: false,
        peer: "10.9.0.2",
      },
    ]);
  });

  it("skips address entries of other families and refuses what is not ip's JSON", () => {
    const [link] = parseAddrShow([
      { ifindex: 9, ifname: "x", flags: [], addr_info: [{ family: "mpls" }] },
    ]);
    assert.deepEqual(link?.addresses, []);
    assert.equal(link?.up, false);
    assert.throws(() => parseAddrShow({}), /JSON array/);
    assert.throws(() => parseAddrShow([{ ifname: "x" }]), /ifindex/);
  });
});
