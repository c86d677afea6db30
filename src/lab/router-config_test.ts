import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  birdConfig,
  controlCommand,
  controlExamples,
  frrConfigs,
  gobgpConfig,
  routerPeers,
} from "./router-config.ts";
import { topology } from "./topology.ts";

const dual = topology({ name: "lab", nodes: 2, ipv6: true, index: 0, router: "bird" });
const v4 = topology({ name: "lab", nodes: 2, ipv6: false, index: 0, router: "bird" });

describe("router configuration", () => {
  it("peers with every node address, one session per family", () => {
    assert.deepEqual(routerPeers(dual.nodes), [
      { node: "node1", family: "ipv4", address: "198.18.0.11", name: "node1_v4" },
      { node: "node1", family: "ipv6", address: "fd48:4c42::11", name: "node1_v6" },
      { node: "node2", family: "ipv4", address: "198.18.0.12", name: "node2_v4" },
      { node: "node2", family: "ipv6", address: "fd48:4c42::12", name: "node2_v6" },
    ]);
    assert.equal(routerPeers(v4.nodes).length, 2);
  });

  it("BIRD: passive eBGP with BFD, GRACEFUL_SHUTDOWN honoured, export none, kernel merges paths", () => {
    const text = birdConfig(dual);
    for (const line of [
      "router id 198.18.0.1;",
      'timeformat protocol "%FT%T";',
      "protocol kernel kernel_ipv4 {",
      "protocol kernel kernel_ipv6 {",
      "  merge paths on;",
      '  interface "eth0" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; };',
      "  local 198.18.0.1 as 64512;",
      "  local fd48:4c42::1 as 64512;",
      "  passive on;",
      "  bfd on;",
      "  ipv4 { import filter { if (65535, 0) ~ bgp_community then bgp_local_pref = 0; accept; }; export none; };",
      "  ipv6 { import filter { if (65535, 0) ~ bgp_community then bgp_local_pref = 0; accept; }; export none; };",
      "protocol bgp node1_v4 from nodes_ipv4 { neighbor 198.18.0.11 as 64513; }",
      "protocol bgp node2_v6 from nodes_ipv6 { neighbor fd48:4c42::12 as 64513; }",
    ])
      assert.ok(text.split("\n").includes(line), `missing: ${line}\n${text}`);
    assert.ok(!birdConfig(v4).includes("ipv6"));
  });

  it("FRR: a file per daemon, peer groups per family, BFD profile, 16 paths", () => {
    const { zebra, bfdd, bgpd } = frrConfigs(dual);
    assert.match(zebra, /^hostname hl-lab-router$/m);
    assert.match(bfdd, /receive-interval 100\n {2}transmit-interval 100\n {2}detect-multiplier 3/);
    for (const line of [
      "router bgp 64512",
      " bgp router-id 198.18.0.1",
      " no bgp default ipv4-unicast",
      " neighbor nodes_ipv4 remote-as 64513",
      " neighbor nodes_ipv4 passive",
      " neighbor nodes_ipv6 bfd profile nodes",
      " neighbor 198.18.0.11 peer-group nodes_ipv4",
      " neighbor fd48:4c42::12 peer-group nodes_ipv6",
      " address-family ipv6 unicast",
      "  maximum-paths 16",
      "  neighbor nodes_ipv4 route-map NODES-IN in",
      "  neighbor nodes_ipv6 route-map NODES-IN-IPV6 in",
      "  neighbor nodes_ipv6 route-map NODES-OUT out",
      " set ipv6 next-hop prefer-global",
      "route-map NODES-OUT deny 10",
    ])
      assert.ok(bgpd.split("\n").includes(line), `missing: ${line}\n${bgpd}`);
    // Each daemon reads only its own file: no other daemon's commands in it.
    assert.ok(!bgpd.includes("\nbfd\n") && !bfdd.includes("router bgp"));
  });

  it("GoBGP: multipath, reject on export, passive neighbours with short hold timers", () => {
    const text = gobgpConfig(dual);
    for (const line of [
      "  as = 64512",
      '  router-id = "198.18.0.1"',
      '  local-address-list = ["198.18.0.1", "fd48:4c42::1"]',
      "[global.use-multiple-paths.config]",
      '  default-export-policy = "reject-route"',
      '    neighbor-address = "fd48:4c42::11"',
      "    peer-as = 64513",
      "    hold-time = 9",
      "    passive-mode = true",
      '      afi-safi-name = "ipv6-unicast"',
    ])
      assert.ok(text.split("\n").includes(line), `missing: ${line}\n${text}`);
    assert.equal(text.match(/\[\[neighbors\]\]/g)?.length, 4);
  });

  it("names each daemon's control command with the lab's own socket or port", () => {
    const dir = "/run/herald/lab-lab";
    assert.deepEqual(controlCommand("bird", dir), ["birdc", "-s", `${dir}/router/bird.ctl`]);
    assert.deepEqual(controlCommand("gobgp", dir), ["gobgp", "-p", "50051"]);
    assert.deepEqual(controlCommand("frr", dir), ["vtysh", "--vty_socket", `${dir}/router`]);
    assert.deepEqual(controlExamples("frr", dir)[0], [
      "vtysh",
      "--vty_socket",
      `${dir}/router`,
      "-c",
      "show bgp summary",
    ]);
  });
});
