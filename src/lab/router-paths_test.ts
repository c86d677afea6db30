import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { birdPaths, frrPaths, gobgpPaths, numericCommunity } from "./router-paths.ts";

// Outputs as BIRD 2.0.12, FRR 8.4 and GoBGP 3 printed them in the lab (iBGP, two nodes).
const expected = (nexthop: string) => ({
  nexthop,
  localPref: 150,
  communities: ["64512:100", "65535:65281"],
  largeCommunities: ["64512:1:2"],
});

describe("router path parsers", () => {
  it("reads birdc show route all, one path per node", () => {
    const text = [
      "BIRD 2.0.12 ready.",
      "Table master6:",
      "fd48:4c42:58:100::/128 unicast [node1_v6 14:28:36.961] * (100) [i]",
      "\tvia fd48:4c42:58::11 on eth0",
      "\tType: BGP univ",
      "\tBGP.origin: IGP",
      "\tBGP.as_path: ",
      "\tBGP.next_hop: fd48:4c42:58::11",
      "\tBGP.local_pref: 150",
      "\tBGP.community: (64512,100) (65535,65281)",
      "\tBGP.large_community: (64512, 1, 2)",
      "                     unicast [node2_v6 14:28:36.961] (100) [i]",
      "\tvia fd48:4c42:58::12 on eth0",
      "\tBGP.local_pref: 150",
      "\tBGP.community: (64512,100) (65535,65281)",
      "\tBGP.large_community: (64512, 1, 2)",
    ].join("\n");
    assert.deepEqual(birdPaths(text), [expected("fd48:4c42:58::11"), expected("fd48:4c42:58::12")]);
    assert.deepEqual(birdPaths("BIRD 2.0.12 ready.\nNetwork not found\n"), []);
  });

  it("reads vtysh show bgp … json, preferring the global next hop", () => {
    const path = (ip: string) => ({
      locPrf: 150,
      community: { string: "64512:100 no-export", list: ["64512:100", "noExport"] },
      largeCommunity: { string: "64512:1:2", list: ["64512:1:2"] },
      nexthops: [
        { ip: "fe80::1", scope: "link-local" },
        { ip, scope: "global" },
      ],
    });
    const json = JSON.stringify({
      prefix: "198.19.40.0/32",
      paths: [path("198.18.80.11"), path("198.18.80.12")],
    });
    assert.deepEqual(frrPaths(json), [expected("198.18.80.11"), expected("198.18.80.12")]);
    assert.deepEqual(frrPaths("{}"), []);
  });

  it("reads gobgp global rib -j by attribute type", () => {
    const entry = (nexthop: string, type: number) => ({
      nlri: { prefix: "198.19.29.0/32" },
      attrs: [
        { type: 1, value: 0 },
        { type, nexthop },
        { type: 5, value: 150 },
        { type: 8, communities: [4227858532, 4294967041] },
        { type: 32, value: [{ ASN: 64512, LocalData1: 1, LocalData2: 2 }] },
      ],
    });
    const json = JSON.stringify({
      "198.19.29.0/32": [entry("198.18.58.11", 3), entry("fd48:4c42:29::12", 14)],
    });
    assert.deepEqual(gobgpPaths(json), [expected("198.18.58.11"), expected("fd48:4c42:29::12")]);
  });

  it("writes well-known communities as numbers", () => {
    assert.equal(numericCommunity("no-export"), "65535:65281");
    assert.equal(numericCommunity("local-AS"), "65535:65283");
    assert.equal(numericCommunity("64512:7"), "64512:7");
  });
});
