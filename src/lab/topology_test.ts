import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkOptions,
  defaultIndex,
  hostInterfaceName,
  MAX_INDEX,
  ownsNamespace,
  routeClashes,
  topology,
} from "./topology.ts";

describe("defaultIndex", () => {
  it("gives the default lab index 0 and every other name a fixed index from 1", () => {
    assert.equal(defaultIndex("lab"), 0);
    for (const name of ["a", "demo", "test-1234", "lab2"]) {
      const index = defaultIndex(name);
      assert.equal(index, defaultIndex(name));
      assert.ok(index >= 1 && index <= MAX_INDEX, `${name} -> ${index}`);
    }
  });
});

describe("topology", () => {
  const lab = topology({ name: "lab", nodes: 3, ipv6: true, index: 0 });

  it("puts router, host, lanclient and nodes on the LAN at fixed host numbers", () => {
    assert.deepEqual(lab.router.lan, { ipv4: "198.18.0.1", ipv6: "fd48:4c42::1" });
    assert.deepEqual(
      { ipv4: lab.host.ipv4, ipv6: lab.host.ipv6, interface: lab.host.interface },
      { ipv4: "198.18.0.2", ipv6: "fd48:4c42::2", interface: "hl0-host" },
    );
    assert.deepEqual(lab.lanclient, { ipv4: "198.18.0.3", ipv6: "fd48:4c42::3" });
    assert.deepEqual(
      lab.nodes.map((node) => [node.name, node.namespace, node.ipv4, node.ipv6, node.mac]),
      [
        ["node1", "hl-lab-node1", "198.18.0.11", "fd48:4c42::11", "02:48:4c:00:00:0b"],
        ["node2", "hl-lab-node2", "198.18.0.12", "fd48:4c42::12", "02:48:4c:00:00:0c"],
        ["node3", "hl-lab-node3", "198.18.0.13", "fd48:4c42::13", "02:48:4c:00:00:0d"],
      ],
    );
  });

  it("puts the client behind the router in a subnet of its own", () => {
    assert.deepEqual(lab.clientLink, { ipv4: "198.18.1.0/24", ipv6: "fd48:4c42:0:1::/64" });
    assert.deepEqual(lab.router.client, { ipv4: "198.18.1.1", ipv6: "fd48:4c42:0:1::1" });
    assert.deepEqual(lab.client, { ipv4: "198.18.1.2", ipv6: "fd48:4c42:0:1::2" });
    assert.deepEqual(
      lab.routes.filter((route) => route.namespace === "hl-lab-client").map((route) => route.via),
      ["198.18.1.1", "fd48:4c42:0:1::1"],
    );
  });

  it("routes nodes and the lanclient through the router, so replies reach the client", () => {
    for (const namespace of ["hl-lab-node1", "hl-lab-node3", "hl-lab-lanclient"])
      assert.deepEqual(
        lab.routes.filter((route) => route.namespace === namespace).map((route) => route.via),
        ["198.18.0.1", "fd48:4c42::1"],
      );
  });

  it("derives every subnet from the index, so labs with different indexes never meet", () => {
    const other = topology({ name: "other", nodes: 2, ipv6: true, index: 50 });
    assert.deepEqual(other.lan, { ipv4: "198.18.100.0/24", ipv6: "fd48:4c42:50::/64" });
    assert.deepEqual(other.clientLink, {
      ipv4: "198.18.101.0/24",
      ipv6: "fd48:4c42:50:1::/64",
    });
    assert.deepEqual(other.routedPool, {
      ipv4: "198.19.50.0/24",
      ipv6: "fd48:4c42:50:100::/64",
    });
    assert.deepEqual(other.localPool, {
      ipv4: "198.18.100.200-198.18.100.250",
      ipv6: "fd48:4c42:50::200-fd48:4c42:50::250",
    });
    assert.equal(other.host.interface, "hl50-host");
    assert.equal(other.nodes[1]!.mac, "02:48:4c:32:00:0c");
  });

  it("leaves IPv6 out entirely without --ipv6", () => {
    const v4 = topology({ name: "lab", nodes: 1, ipv6: false, index: 0 });
    assert.equal(v4.lan.ipv6, null);
    assert.equal(v4.nodes[0]!.ipv6, null);
    assert.equal(v4.localPool.ipv6, null);
    assert.ok(v4.links.every((link) => link.a.addresses.every((cidr) => !cidr.includes(":"))));
    assert.ok(v4.routes.every((route) => !route.via.includes(":")));
    assert.ok(!("net.ipv6.conf.all.forwarding" in v4.namespaces[1]!.sysctls));
  });

  it("hangs every node, the router, the lanclient and the host on the LAN bridge", () => {
    const ports = lab.links
      .filter((link) => link.b.bridge !== null)
      .map((link) => [link.a.namespace, link.b.name]);
    assert.deepEqual(ports, [
      [null, "host"],
      ["hl-lab-router", "router"],
      ["hl-lab-lanclient", "lanclient"],
      ["hl-lab-node1", "node1"],
      ["hl-lab-node2", "node2"],
      ["hl-lab-node3", "node3"],
    ]);
    for (const link of lab.links) if (link.b.bridge) assert.equal(link.b.namespace, "hl-lab-lan");
  });

  it("keeps interface names within the kernel's 15 characters at the largest index and count", () => {
    const big = topology({ name: "a-long-lab-name-abc", nodes: 100, ipv6: true, index: MAX_INDEX });
    for (const link of big.links)
      for (const end of [link.a, link.b]) assert.ok(end.name.length <= 15, end.name);
    assert.equal(hostInterfaceName(MAX_INDEX), "hl127-host");
  });

  it("sets ARP behaviour on nodes and forwarding on the router", () => {
    const node = lab.namespaces.find((ns) => ns.name === "hl-lab-node1")!;
    assert.equal(node.sysctls["net.ipv4.conf.all.arp_ignore"], "1");
    assert.equal(node.sysctls["net.ipv4.conf.all.arp_announce"], "2");
    const router = lab.namespaces.find((ns) => ns.role === "router")!;
    assert.equal(router.sysctls["net.ipv4.ip_forward"], "1");
    assert.equal(router.sysctls["net.ipv6.conf.all.forwarding"], "1");
    // Nodes forward only beside real kube-proxy, which sends traffic on to other nodes.
    assert.ok(!("net.ipv4.ip_forward" in node.sysctls));
    const real = topology({ ...lab.options, kube: "real" });
    const realNode = real.namespaces.find((ns) => ns.name === "hl-lab-node1")!;
    assert.equal(realNode.sysctls["net.ipv4.ip_forward"], "1");
    assert.equal(realNode.sysctls["net.ipv6.conf.all.forwarding"], "1");
  });
});

describe("ownsNamespace", () => {
  it("matches this lab's namespaces and not those of a lab whose name extends it", () => {
    assert.ok(ownsNamespace("lab", "hl-lab-lan"));
    assert.ok(ownsNamespace("lab", "hl-lab-node12"));
    assert.ok(!ownsNamespace("lab", "hl-lab-2-node1"));
    assert.ok(!ownsNamespace("lab", "hl-lab-2-lan"));
    assert.ok(!ownsNamespace("lab", "xa"));
  });
});

describe("checkOptions", () => {
  it("explains names, node counts and indexes it cannot use", () => {
    assert.equal(checkOptions({ name: "lab", nodes: 3, ipv6: false, index: 0 }), undefined);
    assert.match(checkOptions({ name: "Lab", nodes: 3, ipv6: false, index: 0 })!, /lowercase/);
    assert.match(checkOptions({ name: "lab", nodes: 0, ipv6: false, index: 0 })!, /--nodes/);
    assert.match(checkOptions({ name: "lab", nodes: 3, ipv6: false, index: 128 })!, /--index/);
  });
});

describe("routeClashes", () => {
  it("finds host routes that would take the lab's traffic, not broader ones", () => {
    assert.ok(routeClashes("198.18.0.0/24", "198.18.0.0/24"));
    assert.ok(routeClashes("198.18.0.0/24", "198.18.0.128/25"));
    assert.ok(routeClashes("198.18.0.0/24", "198.18.0.7"));
    assert.ok(!routeClashes("198.18.0.0/24", "198.18.0.0/15"));
    assert.ok(!routeClashes("198.18.0.0/24", "198.18.2.0/24"));
    assert.ok(!routeClashes("198.18.0.0/24", "fe80::/64"));
    assert.ok(routeClashes("fd48:4c42::/64", "fd48:4c42::/64"));
    assert.ok(!routeClashes("fd48:4c42::/64", "fd48:4c42:0:1::/64"));
  });
});
