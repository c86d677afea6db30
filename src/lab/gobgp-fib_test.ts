import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fibChanges, multipathRoutes, type GobgpPath } from "./gobgp-fib.ts";

/** A path as `gobgp global rib -j` prints it (GoBGP 3.10). */
function path(nexthop: string, options: { best?: boolean; asns?: number[]; med?: number } = {}) {
  const attrs: NonNullable<GobgpPath["attrs"]> = [
    { type: 1, value: 0 },
    {
      type: 2,
      as_paths: [
        { segment_type: 2, num: (options.asns ?? [64513]).length, asns: options.asns ?? [64513] },
      ],
    },
    nexthop.includes(":") ? { type: 14, nexthop } : { type: 3, nexthop },
  ];
  if (options.med !== undefined) attrs.push({ type: 4, metric: options.med });
  return { best: options.best ?? false, attrs, stale: false };
}

describe("GoBGP FIB installer", () => {
  it("makes one multipath route of the paths equal to the best", () => {
    const rib: Record<string, GobgpPath[]> = {
      "198.19.0.5/32": [path("198.18.0.12", { best: true }), path("198.18.0.11")],
      // A longer AS path is not equal: it is left out.
      "198.19.0.6/32": [
        path("198.18.0.11", { best: true }),
        path("198.18.0.12", { asns: [64513, 64513] }),
      ],
      // Nor is a higher MED.
      "198.19.0.7/32": [path("198.18.0.11", { best: true }), path("198.18.0.12", { med: 10 })],
      "198.19.0.8/32": [path("198.18.0.11")], // no best path: nothing to install
    };
    assert.deepEqual(multipathRoutes(rib), [
      { prefix: "198.19.0.5/32", nexthops: ["198.18.0.11", "198.18.0.12"] },
      { prefix: "198.19.0.6/32", nexthops: ["198.18.0.11"] },
      { prefix: "198.19.0.7/32", nexthops: ["198.18.0.11"] },
    ]);
  });

  it("takes the global IPv6 next hop, not a link-local one", () => {
    const second = path("fd48:4c42::12");
    // Some versions list both next hops of MP_REACH_NLRI, the link-local one first.
    second.attrs[2] = { type: 14, nexthops: ["fe80::48:4cff:fe00:c", "fd48:4c42::12"] };
    const rib = {
      "fd48:4c42:0:100::5/128": [path("fd48:4c42::11", { best: true }), second],
    };
    assert.deepEqual(multipathRoutes(rib), [
      { prefix: "fd48:4c42:0:100::5/128", nexthops: ["fd48:4c42::11", "fd48:4c42::12"] },
    ]);
  });

  it("replaces changed routes, leaves equal ones and deletes the ones gobgpd dropped", () => {
    const changes = fibChanges(
      "ipv4",
      [
        { prefix: "198.19.0.5/32", nexthops: ["198.18.0.11", "198.18.0.12"] },
        { prefix: "198.19.0.6/32", nexthops: ["198.18.0.11"] },
        { prefix: "198.19.0.7/32", nexthops: ["198.18.0.12"] },
      ],
      [
        { prefix: "198.19.0.5/32", nexthops: ["198.18.0.11"] },
        { prefix: "198.19.0.6/32", nexthops: ["198.18.0.11"] },
        { prefix: "198.19.0.9/32", nexthops: ["198.18.0.13"] },
      ],
    );
    assert.deepEqual(changes, [
      [
        "-4",
        "route",
        "replace",
        "198.19.0.5/32",
        "proto",
        "bgp",
        "nexthop",
        "via",
        "198.18.0.11",
        "nexthop",
        "via",
        "198.18.0.12",
      ],
      ["-4", "route", "replace", "198.19.0.7/32", "proto", "bgp", "via", "198.18.0.12"],
      ["-4", "route", "delete", "198.19.0.9/32", "proto", "bgp"],
    ]);
    assert.deepEqual(fibChanges("ipv6", [], []), []);
  });
});
