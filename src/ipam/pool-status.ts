// What an AddressPool's status says: capacity, use and availability per family, and
// whether it hands out addresses (Ready) or overlaps an older pool (Conflict). Shared by
// the controller, which writes it, and `herald plan`, which prints it.
import type { FamilyCounts } from "../api/addresspool.ts";
import type { Condition } from "../api/meta.ts";
import type { Family } from "../ip.ts";
import type { Pool } from "./pool.ts";
import type { PoolSet } from "./pool-set.ts";

export interface PoolStatus {
  capacity: FamilyCounts;
  allocated: FamilyCounts;
  available: FamilyCounts;
  conditions: Condition[];
}

export function poolStatus(
  pool: Pool,
  pools: PoolSet,
  allocated: Record<Family, bigint>,
): PoolStatus {
  const closed = pools.closedBecause(pool.name) !== undefined;
  const available = (family: Family) =>
    closed
      ? 0n
      : pool.capacity[family] > allocated[family]
        ? pool.capacity[family] - allocated[family]
        : 0n;
  return {
    capacity: counts(pool.capacity),
    allocated: counts(allocated),
    available: counts({ IPv4: available("IPv4"), IPv6: available("IPv6") }),
    conditions: poolConditions(pool, pools),
  };
}

function counts(byFamily: Record<Family, bigint>): FamilyCounts {
  return { ipv4: byFamily.IPv4.toString(), ipv6: byFamily.IPv6.toString() };
}

function poolConditions(pool: Pool, pools: PoolSet): Condition[] {
  const conflict = pools.conflictOf(pool.name);
  const conflictCondition: Condition = conflict
    ? { type: "Conflict", status: "True", reason: "Overlap", message: conflict.message }
    : {
        type: "Conflict",
        status: "False",
        reason: "NoOverlap",
        message: "no other pool holds these addresses",
      };
  if (pool.disabled !== undefined) {
    return [
      {
        type: "Ready",
        status: "False",
        reason: "InvalidSpec",
        message: `${pool.disabled}; services keep the addresses they hold, no new ones are handed out`,
      },
      conflictCondition,
    ];
  }
  if (conflict) {
    return [
      { type: "Ready", status: "False", reason: "Conflict", message: conflict.message },
      conflictCondition,
    ];
  }
  return [
    {
      type: "Ready",
      status: "True",
      reason: "Ready",
      message: pool.autoAssign
        ? "addresses are handed out"
        : "addresses go only to services that name this pool or one of its addresses (autoAssign: false)",
    },
    conflictCondition,
  ];
}
