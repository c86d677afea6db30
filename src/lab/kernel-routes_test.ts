import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { normalizePrefix, parseIpRoutes, sortAddresses } from "./kernel-routes.ts";

describe("parseIpRoutes", () => {
  it("keeps routes through gateways, single and multipath, with full prefixes", () => {
    const json = JSON.stringify([
      { dst: "198.18.0.0/24", dev: "eth0", protocol: "kernel", scope: "link" },
      { dst: "198.19.0.0/28", gateway: "198.18.0.12", dev: "eth0", protocol: "bird" },
      {
        dst: "198.19.0.5",
        nhid: 14,
        protocol: "bgp",
        nexthops: [
          { gateway: "198.18.0.12", dev: "eth0", weight: 1 },
          { gateway: "198.18.0.11", dev: "eth0", weight: 1 },
        ],
      },
      { dst: "198.19.0.9", type: "blackhole" },
    ]);
    assert.deepEqual(parseIpRoutes(json), [
      { prefix: "198.19.0.0/28", nexthops: ["198.18.0.12"] },
      { prefix: "198.19.0.5/32", nexthops: ["198.18.0.11", "198.18.0.12"] },
    ]);
  });

  it("reads IPv6 and default routes, and nothing from empty output", () => {
    const json = JSON.stringify([
      { dst: "default", gateway: "fd48:4c42::1", dev: "eth0" },
      {
        dst: "fd48:4c42:0:100::5",
        nexthops: [{ gateway: "fd48:4c42::12" }, { gateway: "fd48:4c42:0::11" }],
      },
    ]);
    assert.deepEqual(parseIpRoutes(json), [
      { prefix: "::/0", nexthops: ["fd48:4c42::1"] },
      { prefix: "fd48:4c42:0:100::5/128", nexthops: ["fd48:4c42::11", "fd48:4c42::12"] },
    ]);
    assert.deepEqual(parseIpRoutes(""), []);
  });

  it("normalizes prefixes and sorts addresses numerically", () => {
    assert.equal(normalizePrefix("198.19.0.5"), "198.19.0.5/32");
    assert.equal(normalizePrefix("fd48:4c42:0:100:0::5/128"), "fd48:4c42:0:100::5/128");
    assert.deepEqual(sortAddresses(["198.18.0.100", "198.18.0.11", "198.18.0.9", "198.18.0.11"]), [
      "198.18.0.9",
      "198.18.0.11",
      "198.18.0.100",
    ]);
  });
});
