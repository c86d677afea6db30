// All valid pools together: which pools overlap (the newer one is in Conflict and hands
// out nothing), which pool owns an address, and the order pools are tried in.
import type { Family } from "../ip.ts";
import type { Pool } from "./pool.ts";
import { formatRange, rangesOverlap } from "./range.ts";

export interface PoolConflict {
  /** The older pool that keeps the overlapping addresses. */
  readonly olderPool: string;
  readonly message: string;
}

interface OwnedSegment {
  readonly first: bigint;
  readonly last: bigint;
  readonly pool: Pool;
}

export class PoolSet {
  /** In the order given. */
  readonly pools: readonly Pool[];
  /** Pools that may hand out addresses, by priority (unset last), then name. */
  readonly searchOrder: readonly Pool[];
  private readonly byName = new Map<string, Pool>();
  /** pool name -> why it is in Conflict. */
  private readonly conflicts = new Map<string, PoolConflict>();
  /** family -> disjoint segments sorted by address, each owned by the oldest pool holding it. */
  private readonly owners: Record<Family, OwnedSegment[]>;

  constructor(pools: readonly Pool[]) {
    this.pools = pools;
    for (const pool of pools) {
      if (this.byName.has(pool.name)) throw new Error(`duplicate pool name ${pool.name}`);
      this.byName.set(pool.name, pool);
    }
    const byAge = [...pools].sort(olderFirst);
    this.findConflicts(byAge);
    this.owners = { IPv4: ownership(byAge, "IPv4"), IPv6: ownership(byAge, "IPv6") };
    this.searchOrder = pools
      .filter((pool) => !this.conflicts.has(pool.name) && pool.disabled === undefined)
      .sort(searchFirst);
  }

  get(name: string): Pool | undefined {
    return this.byName.get(name);
  }

  conflictOf(name: string): PoolConflict | undefined {
    return this.conflicts.get(name);
  }

  /** Why a pool hands out no new addresses (in conflict, or disabled), or undefined. */
  closedBecause(name: string): string | undefined {
    const pool = this.byName.get(name);
    if (pool?.disabled !== undefined) return `its spec is invalid (${pool.disabled})`;
    const conflict = this.conflicts.get(name);
    return conflict && `it is in conflict: ${conflict.message}`;
  }

  /** The pool an address belongs to: where pools overlap, the oldest. */
  owner(family: Family, value: bigint): Pool | undefined {
    const segments = this.owners[family];
    let low = 0;
    let high = segments.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const segment = segments[mid]!;
      if (value < segment.first) high = mid - 1;
      else if (value > segment.last) low = mid + 1;
      else return segment.pool;
    }
    return undefined;
  }

  private findConflicts(byAge: readonly Pool[]): void {
    for (let i = 0; i < byAge.length; i++) {
      const newer = byAge[i]!;
      search: for (let j = 0; j < i; j++) {
        const older = byAge[j]!;
        for (const mine of newer.ranges) {
          const theirs = older.ranges.find((range) => rangesOverlap(range, mine));
          if (!theirs) continue;
          this.conflicts.set(newer.name, {
            olderPool: older.name,
            message:
              `${formatRange(mine)} overlaps ${formatRange(theirs)} of the older pool "${older.name}"; ` +
              `this pool hands out no new addresses until the overlap is removed`,
          });
          break search;
        }
      }
    }
  }
}

/** Older first; a pool without creationTimestamp (not yet created) is the newest. */
function olderFirst(a: Pool, b: Pool): number {
  if (a.createdAt !== b.createdAt) {
    if (a.createdAt === undefined) return 1;
    if (b.createdAt === undefined) return -1;
    return a.createdAt < b.createdAt ? -1 : 1;
  }
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function searchFirst(a: Pool, b: Pool): number {
  const pa = a.priority ?? Infinity;
  const pb = b.priority ?? Infinity;
  if (pa !== pb) return pa < pb ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Splits the family's address line into segments, each owned by the oldest pool over it. */
function ownership(byAge: readonly Pool[], family: Family): OwnedSegment[] {
  let owned: OwnedSegment[] = [];
  for (const pool of byAge) {
    for (const range of pool.ranges) {
      if (range.family !== family) continue;
      // Keep what older pools own; add the parts of this range they leave uncovered.
      let cursor = range.first;
      const added: OwnedSegment[] = [];
      for (const segment of owned) {
        if (segment.last < cursor) continue;
        if (segment.first > range.last) break;
        if (segment.first > cursor) added.push({ first: cursor, last: segment.first - 1n, pool });
        cursor = segment.last + 1n;
        if (cursor > range.last) break;
      }
      if (cursor <= range.last) added.push({ first: cursor, last: range.last, pool });
      owned = [...owned, ...added].sort((a, b) => (a.first < b.first ? -1 : 1));
    }
  }
  return owned;
}
