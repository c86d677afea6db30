import { test } from "node:test";
import assert from "node:assert/strict";
import type { AddressDecision } from "./announcements.ts";
import { routedPrefixes } from "./routing.ts";

function routed(address: string, prefixLength: number, pool = "routed"): AddressDecision {
  return {
    address,
    family: address.includes(":") ? "IPv6" : "IPv4",
    services: ["default/web"],
    pool,
    mode: "Routed",
    prefixLength,
  };
}

test("routed prefixes clear host bits and fold addresses of one aggregate into one route", () => {
  assert.deepEqual(
    routedPrefixes([
      routed("198.19.0.5", 28),
      routed("198.19.0.9", 28),
      routed("198.19.0.77", 32),
      routed("fd48::5", 64),
    ]),
    [
      { prefix: "198.19.0.0/28", pool: "routed", family: "IPv4" },
      { prefix: "198.19.0.77/32", pool: "routed", family: "IPv4" },
      { prefix: "fd48::/64", pool: "routed", family: "IPv6" },
    ],
  );
});
