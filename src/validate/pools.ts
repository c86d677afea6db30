// AddressPools beyond their schema: what only the controller checks (IPv6 range order,
// entries overlapping, aggregation against ranges, interface regexes), and pools
// overlapping each other — with the controller's own code, so the words are its words.
import { compileRegexes } from "../agent/kernel/choose.ts";
import { PoolCatalog } from "../ipam/pool-catalog.ts";
import type { Pool } from "../ipam/pool.ts";
import { PoolSet } from "../ipam/pool-set.ts";
import { formatRange, rangesOverlap } from "../ipam/range.ts";
import type { HeraldObject } from "./inventory.ts";
import { errorAt, splitField, type Problem } from "./problem.ts";

export interface PoolCheck {
  /** The pools the controller would work with: the accepted ones, invalid ones disabled. */
  readonly pools: Pool[];
  readonly problems: Problem[];
}

export function checkPools(addressPools: readonly HeraldObject[]): PoolCheck {
  const problems: Problem[] = [];
  // A pool the API server refuses never exists; the rest are what the controller sees.
  const accepted = addressPools.filter((pool) => pool.accepted);
  const catalog = new PoolCatalog().update(accepted.map((pool) => pool.stored));
  for (const pool of accepted) {
    const controllerProblems = catalog.problems.get(pool.name) ?? [];
    for (const text of controllerProblems) {
      const { field, message } = splitField(text);
      problems.push(errorAt(pool.subject, field, message));
    }
    problems.push(...agentRegexProblems(pool, controllerProblems));
  }
  const valid = catalog.pools.filter((pool) => pool.disabled === undefined);
  problems.push(...overlapProblems(valid, accepted));
  return { pools: catalog.pools, problems };
}

/**
 * The agent compiles `interfaces` more strictly than the controller (Unicode mode, closer to
 * RE2): a regex both accept can still be one the agent refuses, and then ignores.
 */
function agentRegexProblems(pool: HeraldObject, controllerProblems: readonly string[]): Problem[] {
  const spec = pool.stored.spec as { interfaces?: unknown } | undefined;
  if (!Array.isArray(spec?.interfaces)) return [];
  const problems: Problem[] = [];
  spec.interfaces.forEach((regex: unknown, i: number) => {
    const field = `spec.interfaces[${i}]`;
    if (typeof regex !== "string" || controllerProblems.some((p) => p.startsWith(field))) return;
    const compiled = compileRegexes([regex]);
    if ("error" in compiled) {
      problems.push(
        errorAt(
          pool.subject,
          field,
          `${compiled.error}; the agents ignore it (InvalidInterfaceRegex)`,
        ),
      );
    }
  });
  return problems;
}

/**
 * Every pair of overlapping pools, once. The newer pool loses (DESIGN §3); offline "newer"
 * is known only from creationTimestamp, and a pool without one is not created yet, so it
 * will be the newer. With neither timestamp, whichever is created later loses.
 */
function overlapProblems(pools: readonly Pool[], objects: readonly HeraldObject[]): Problem[] {
  const subjectOf = new Map(objects.map((object) => [object.name, object.subject]));
  const problems: Problem[] = [];
  for (let j = 0; j < pools.length; j++) {
    for (let i = 0; i < j; i++) {
      const earlier = pools[i]!;
      const later = pools[j]!;
      const overlap = firstOverlap(later, earlier);
      if (!overlap) continue;
      if (earlier.createdAt === undefined && later.createdAt === undefined) {
        problems.push(
          errorAt(
            subjectOf.get(later.name)!,
            `spec.addresses[${overlap.mine}]`,
            `${formatRange(later.ranges[overlap.mine]!)} overlaps ${formatRange(earlier.ranges[overlap.theirs]!)} of pool "${earlier.name}"; ` +
              `neither has a creationTimestamp, so whichever of the two is created later is put in Conflict ` +
              `and hands out no new addresses until the overlap is removed`,
          ),
        );
        continue;
      }
      // The controller's own rule and message, on just these two pools.
      const pair = new PoolSet([earlier, later]);
      const loser = pair.conflictOf(earlier.name) ? earlier : later;
      const conflict = pair.conflictOf(loser.name)!;
      const winner = loser === earlier ? later : earlier;
      const index = firstOverlap(loser, winner)!.mine;
      const why =
        loser.createdAt === undefined
          ? `it has no creationTimestamp, so it is created after "${winner.name}"`
          : `it was created after "${winner.name}"`;
      problems.push(
        errorAt(
          subjectOf.get(loser.name)!,
          `spec.addresses[${index}]`,
          `Conflict: ${conflict.message} (${why})`,
        ),
      );
    }
  }
  return problems;
}

/** Indexes into each pool's spec.addresses of the first two entries that overlap. */
function firstOverlap(mine: Pool, theirs: Pool): { mine: number; theirs: number } | undefined {
  for (const [m, range] of mine.ranges.entries()) {
    const t = theirs.ranges.findIndex((other) => rangesOverlap(other, range));
    if (t >= 0) return { mine: m, theirs: t };
  }
  return undefined;
}
