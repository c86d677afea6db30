// The allocator: DESIGN §4 over plain data. It keeps which service holds which address
// and answers, for one service at a time, which addresses it should have now.
//
// Each service goes through `restore` (keep the held addresses that are still valid,
// allocate nothing) and then `assign` (keep what is valid, allocate what is missing).
// Restoring every service before assigning any is what keeps addresses from moving
// across restarts (rule 8).
import type { Labels } from "../api/selector.ts";
import { formatAddress, isBuggyIPv4, type Address, type Family } from "../ip.ts";
import { LowestFree } from "./lowest-free.ts";
import { scopeRefusal, usableInPool, type Pool } from "./pool.ts";
import type { PoolSet } from "./pool-set.ts";
import type { Failure, ServiceRequest, SharingTerms } from "./request.ts";
import { sharingRefusal, type Holder } from "./sharing.ts";

export interface Assignment {
  readonly family: Family;
  /** Canonical text. */
  readonly address: string;
  readonly pool: string;
}

export interface Outcome {
  /** IPv4 first, as written to status.loadBalancer.ingress. */
  readonly assignments: readonly Assignment[];
  readonly failure: Failure | undefined;
  /** One sentence per held address given up, and why. */
  readonly givenUp: readonly string[];
  /** One sentence per family PreferDualStack went without, and why. */
  readonly leftOut: readonly string[];
}

/** An address in use, and the services holding it (more than one only when sharing). */
interface Holding {
  readonly family: Family;
  readonly value: bigint;
  readonly text: string;
  readonly pool: Pool;
  /** The address's number in its pool's space. */
  readonly ordinal: bigint;
  /** service key -> its sharing terms */
  readonly holders: Map<string, SharingTerms>;
}

export type NamespaceLabels = (namespace: string) => Labels;

/** Kubernetes labels every namespace with its own name; selectors may rely on that. */
export const namespaceNameLabels: NamespaceLabels = (namespace) => ({
  "kubernetes.io/metadata.name": namespace,
});

export class Allocator {
  private readonly pools: PoolSet;
  private readonly namespaceLabels: NamespaceLabels;
  /** pool name -> family -> which of the pool's addresses are taken */
  private readonly free = new Map<string, Partial<Record<Family, LowestFree>>>();
  /** address text -> holding */
  private readonly inUse = new Map<string, Holding>();
  /** service key -> family -> address text; present once the service was restored */
  private readonly byService = new Map<string, Map<Family, string>>();
  /** sharing key -> texts of the addresses held under it */
  private readonly bySharingKey = new Map<string, Set<string>>();

  constructor(pools: PoolSet, namespaceLabels: NamespaceLabels = namespaceNameLabels) {
    this.pools = pools;
    this.namespaceLabels = namespaceLabels;
  }

  /** Keeps the service's valid held addresses; allocates nothing new. */
  restore(request: ServiceRequest): Outcome {
    return this.reconcile(request, false);
  }

  /** Keeps what is still valid, gives up what is not, and allocates missing families. */
  assign(request: ServiceRequest): Outcome {
    return this.reconcile(request, true);
  }

  /** Frees everything the service holds; returns the addresses freed. */
  release(serviceKey: string): string[] {
    const held = this.byService.get(serviceKey);
    this.byService.delete(serviceKey);
    if (!held) return [];
    for (const text of held.values()) this.leave(text, serviceKey);
    return [...held.values()];
  }

  holdings(serviceKey: string): Assignment[] {
    const held = this.byService.get(serviceKey);
    if (!held) return [];
    return ipv4First(
      [...held.values()].map((text) => {
        const holding = this.inUse.get(text)!;
        return { family: holding.family, address: text, pool: holding.pool.name };
      }),
    );
  }

  /** Addresses of the pool in use per family (a shared address counts once). */
  allocated(poolName: string): Record<Family, bigint> {
    const free = this.free.get(poolName);
    return {
      IPv4: BigInt(free?.IPv4?.takenCount ?? 0),
      IPv6: BigInt(free?.IPv6?.takenCount ?? 0),
    };
  }

  private reconcile(request: ServiceRequest, allocateMissing: boolean): Outcome {
    const key = request.key;
    if (request.ignored !== undefined) {
      this.release(key);
      return { assignments: [], failure: undefined, givenUp: [], leftOut: [] };
    }
    const namespaceLabels = this.namespaceLabels(request.namespace);
    const known = this.byService.get(key);
    const kept = new Map<Family, Holding>();
    const givenUp: string[] = [];

    // Rule 7: a held address stays unless it is no longer valid for this service.
    const candidates = known
      ? [...known.values()].map((text) => this.inUse.get(text)!)
      : request.held;
    for (const candidate of candidates) {
      const text = formatAddress(candidate);
      const refusal = this.heldRefusal(request, candidate, namespaceLabels);
      if (refusal !== undefined) {
        if (known) this.leave(text, key);
        givenUp.push(`gave up ${text}: ${refusal}`);
        continue;
      }
      // Valid means owned by a pool, so there is a holding to join.
      kept.set(candidate.family, this.join(request, this.holdingAt(candidate)!));
    }

    if (request.invalid || !allocateMissing) {
      return this.outcome(key, kept, request.invalid, givenUp);
    }

    const failures = new Map<Family, Failure>();
    const added: Family[] = [];
    for (const family of request.families) {
      if (kept.has(family)) continue;
      // Rule 2: the second family prefers the pool that gave the first.
      const preferred = [...kept.values()][0]?.pool;
      const result = this.allocateFamily(request, family, namespaceLabels, preferred);
      if ("failure" in result) {
        failures.set(family, result.failure);
      } else {
        kept.set(family, result.holding);
        added.push(family);
      }
    }
    const missing = request.families.filter((family) => !kept.has(family));
    if (missing.length === 0) return this.outcome(key, kept, undefined, givenUp);

    const failure = mostActionable(missing.map((family) => failures.get(family)!));
    if (request.policy === "RequireDualStack") {
      // Half a dual-stack service is no use: give back what this call took, but keep
      // what was held before (rule 7).
      for (const family of added) {
        this.leave(kept.get(family)!.text, key);
        kept.delete(family);
      }
      return this.outcome(key, kept, failure, givenUp);
    }
    if (request.policy === "PreferDualStack" && kept.size > 0) {
      // PreferDualStack takes what it can, unless an address was asked for by name.
      const explicit = missing.find((family) => request.requested[family] !== undefined);
      if (explicit) return this.outcome(key, kept, failures.get(explicit), givenUp);
      const leftOut = missing.map(
        (family) => `no ${family} address: ${failures.get(family)!.message}`,
      );
      return this.outcome(key, kept, undefined, givenUp, leftOut);
    }
    return this.outcome(key, kept, failure, givenUp);
  }

  /** Records what the service now holds and reports it. */
  private outcome(
    key: string,
    kept: Map<Family, Holding>,
    failure: Failure | undefined,
    givenUp: string[],
    leftOut: string[] = [],
  ): Outcome {
    this.byService.set(key, new Map([...kept].map(([family, holding]) => [family, holding.text])));
    const assignments = [...kept.values()].map((holding) => ({
      family: holding.family,
      address: holding.text,
      pool: holding.pool.name,
    }));
    return { assignments: ipv4First(assignments), failure, givenUp, leftOut };
  }

  /** Why a held address is no longer valid for the service, or undefined. */
  private heldRefusal(
    request: ServiceRequest,
    address: Address,
    namespaceLabels: Labels,
  ): string | undefined {
    const { family, value } = address;
    if (!request.families.includes(family)) return `the service no longer has the ${family} family`;
    const pool = this.pools.owner(family, value);
    if (!pool) return "it is in no AddressPool any more";
    if (!usableInPool(pool, family, value)) {
      return `pool "${pool.name}" avoids addresses ending in .0 and .255 (avoidBuggyIPs)`;
    }
    const refusal = scopeRefusal(pool, request.namespace, namespaceLabels, request.labels);
    if (refusal) return refusal;
    // A malformed request says nothing reliable about pools or addresses; keep what is held.
    if (!request.invalid) {
      if (request.pools && !request.pools.includes(pool.name)) {
        return `it is in pool "${pool.name}", but ${request.poolsBy} names ${quoteList(request.pools)}`;
      }
      const wanted = request.requested[family];
      if (wanted && wanted.value !== value) {
        return `${request.requestedBy} asks for ${formatAddress(wanted)}`;
      }
    }
    const holding = this.inUse.get(formatAddress(address));
    if (holding) return sharingRefusal(this.othersThan(holding, request.key), request.sharing);
    return undefined;
  }

  private allocateFamily(
    request: ServiceRequest,
    family: Family,
    namespaceLabels: Labels,
    preferred: Pool | undefined,
  ): { holding: Holding } | { failure: Failure } {
    const wanted = request.requested[family];
    if (wanted) return this.allocateRequested(request, wanted, namespaceLabels);

    const search = this.searchPools(request, family, namespaceLabels);
    if ("failure" in search) return search;
    const pools = search.pools;
    if (preferred && pools.includes(preferred)) {
      pools.splice(pools.indexOf(preferred), 1);
      pools.unshift(preferred);
    }

    // A service with a sharing key joins an address of its key where it may.
    const shared = this.shareableAddress(request, family, pools);
    if (shared) return { holding: this.join(request, shared) };

    for (const pool of pools) {
      const ordinal = this.freeOf(pool, family).takeLowest();
      if (ordinal === undefined) continue;
      return { holding: this.join(request, this.newHolding(pool, family, ordinal)) };
    }
    const names = quoteList(pools.map((pool) => pool.name));
    return {
      failure: {
        reason: "PoolExhausted",
        message:
          pools.length === 1
            ? `pool ${names} has no free ${family} address left`
            : `pools ${names} have no free ${family} address left`,
      },
    };
  }

  private allocateRequested(
    request: ServiceRequest,
    wanted: Address,
    namespaceLabels: Labels,
  ): { holding: Holding } | { failure: Failure } {
    const text = formatAddress(wanted);
    const asked = `${request.requestedBy} asks for ${text}`;
    const pool = this.pools.owner(wanted.family, wanted.value);
    if (!pool) {
      return {
        failure: { reason: "NoMatchingPool", message: `${asked}, which is in no AddressPool` },
      };
    }
    if (request.pools && !request.pools.includes(pool.name)) {
      return {
        failure: {
          reason: "InvalidRequest",
          message: `${asked}, which is in pool "${pool.name}", but ${request.poolsBy} names ${quoteList(request.pools)}`,
        },
      };
    }
    const closed = this.pools.closedBecause(pool.name);
    if (closed) {
      return {
        failure: {
          reason: "NoMatchingPool",
          message: `${asked}, but pool "${pool.name}" hands out nothing new: ${closed}`,
        },
      };
    }
    const refusal = scopeRefusal(pool, request.namespace, namespaceLabels, request.labels);
    if (refusal)
      return { failure: { reason: "NoMatchingPool", message: `${asked}, but ${refusal}` } };
    if (!usableInPool(pool, wanted.family, wanted.value)) {
      return {
        failure: {
          reason: "InvalidRequest",
          message: `${asked}, but pool "${pool.name}" avoids addresses ending in .0 and .255 (avoidBuggyIPs)`,
        },
      };
    }
    const holding = this.inUse.get(text);
    if (holding) {
      const refusal = sharingRefusal(this.othersThan(holding, request.key), request.sharing);
      if (refusal)
        return { failure: { reason: "SharingConflict", message: `${asked}, but ${refusal}` } };
    }
    return { holding: this.join(request, holding ?? this.holdingAt(wanted)!) };
  }

  /**
   * The pools to try for a family, in order (rules 4 and 5): the named pools if the
   * service names any, else pools whose allocation scope admits it, then unrestricted
   * pools, each group by priority and name, leaving out autoAssign: false.
   */
  private searchPools(
    request: ServiceRequest,
    family: Family,
    namespaceLabels: Labels,
  ): { pools: Pool[] } | { failure: Failure } {
    if (request.pools) {
      const pools: Pool[] = [];
      for (const name of request.pools) {
        const pool = this.pools.get(name);
        const named = `${request.poolsBy} names pool "${name}"`;
        if (!pool)
          return {
            failure: { reason: "NoMatchingPool", message: `${named}, which does not exist` },
          };
        const closed = this.pools.closedBecause(name);
        if (closed) {
          return {
            failure: {
              reason: "NoMatchingPool",
              message: `${named}, which hands out nothing new: ${closed}`,
            },
          };
        }
        const refusal = scopeRefusal(pool, request.namespace, namespaceLabels, request.labels);
        if (refusal)
          return { failure: { reason: "NoMatchingPool", message: `${named}, but ${refusal}` } };
        if (pool.spaces[family]) pools.push(pool);
      }
      if (pools.length === 0) {
        return {
          failure: {
            reason: "NoMatchingPool",
            message: `${request.poolsBy} names ${quoteList(request.pools)}, with no ${family} addresses`,
          },
        };
      }
      return { pools };
    }
    const restricted: Pool[] = [];
    const open: Pool[] = [];
    const passedOver: string[] = [];
    for (const pool of this.pools.searchOrder) {
      if (!pool.spaces[family]) continue;
      const refusal = scopeRefusal(pool, request.namespace, namespaceLabels, request.labels);
      if (refusal) passedOver.push(refusal);
      else if (!pool.autoAssign) passedOver.push(`pool "${pool.name}" has autoAssign: false`);
      else (pool.scope ? restricted : open).push(pool);
    }
    const pools = [...restricted, ...open];
    if (pools.length === 0) {
      const why = passedOver.length > 0 ? ` (${passedOver.slice(0, 3).join("; ")})` : "";
      return {
        failure: {
          reason: "NoMatchingPool",
          message: `no AddressPool with ${family} addresses admits ${request.key}${why}`,
        },
      };
    }
    return { pools };
  }

  /** The lowest address of the service's sharing key that it may join, pools in order. */
  private shareableAddress(
    request: ServiceRequest,
    family: Family,
    pools: readonly Pool[],
  ): Holding | undefined {
    const sharingKey = request.sharing.key;
    if (sharingKey === undefined) return undefined;
    const texts = this.bySharingKey.get(sharingKey);
    if (!texts) return undefined;
    let best: Holding | undefined;
    let bestRank = Infinity;
    for (const text of texts) {
      const holding = this.inUse.get(text)!;
      const rank = pools.indexOf(holding.pool);
      if (holding.family !== family || rank < 0 || holding.holders.has(request.key)) continue;
      if (sharingRefusal(this.othersThan(holding, request.key), request.sharing)) continue;
      if (rank < bestRank || (rank === bestRank && holding.ordinal < best!.ordinal)) {
        best = holding;
        bestRank = rank;
      }
    }
    return best;
  }

  /** The holding of an address: the existing one, or a new one taken from its pool. */
  private holdingAt(address: Address): Holding | undefined {
    const existing = this.inUse.get(formatAddress(address));
    if (existing) return existing;
    const pool = this.pools.owner(address.family, address.value);
    if (!pool) return undefined;
    const ordinal = pool.spaces[address.family]!.ordinalOf(address.value)!;
    this.freeOf(pool, address.family).take(ordinal);
    return this.newHolding(pool, address.family, ordinal);
  }

  /** Records an address whose number the caller has already taken from the pool. */
  private newHolding(pool: Pool, family: Family, ordinal: bigint): Holding {
    const value = pool.spaces[family]!.valueAt(ordinal);
    const text = formatAddress({ family, value });
    const holding: Holding = { family, value, text, pool, ordinal, holders: new Map() };
    this.inUse.set(text, holding);
    return holding;
  }

  /** Records the service as a holder of the address (again); the caller checked it may. */
  private join(request: ServiceRequest, holding: Holding): Holding {
    const before = sharingKeyOf(holding);
    holding.holders.set(request.key, request.sharing);
    this.reindex(holding, before);
    return holding;
  }

  /** Removes the service from the address's holders; frees the address when none is left. */
  private leave(text: string, serviceKey: string): void {
    const holding = this.inUse.get(text);
    if (!holding) return;
    const before = sharingKeyOf(holding);
    holding.holders.delete(serviceKey);
    if (holding.holders.size === 0) {
      this.inUse.delete(text);
      this.freeOf(holding.pool, holding.family).release(holding.ordinal);
    }
    this.reindex(holding, before);
  }

  private reindex(holding: Holding, before: string | undefined): void {
    const after = holding.holders.size > 0 ? sharingKeyOf(holding) : undefined;
    if (before === after) return;
    if (before !== undefined) {
      const texts = this.bySharingKey.get(before);
      texts?.delete(holding.text);
      if (texts?.size === 0) this.bySharingKey.delete(before);
    }
    if (after !== undefined) {
      let texts = this.bySharingKey.get(after);
      if (!texts) this.bySharingKey.set(after, (texts = new Set()));
      texts.add(holding.text);
    }
  }

  private othersThan(holding: Holding, serviceKey: string): Holder[] {
    const others: Holder[] = [];
    for (const [service, terms] of holding.holders) {
      if (service !== serviceKey) others.push({ service, terms });
    }
    return others;
  }

  private freeOf(pool: Pool, family: Family): LowestFree {
    let byFamily = this.free.get(pool.name);
    if (!byFamily) this.free.set(pool.name, (byFamily = {}));
    let free = byFamily[family];
    if (!free) {
      const space = pool.spaces[family]!;
      const skip =
        pool.avoidBuggyIPs && family === "IPv4"
          ? (n: bigint) => isBuggyIPv4(space.valueAt(n))
          : undefined;
      byFamily[family] = free = new LowestFree(space.size, skip);
    }
    return free;
  }
}

/** All holders of an address share one key (that is what lets them share). */
function sharingKeyOf(holding: Holding): string | undefined {
  for (const terms of holding.holders.values()) return terms.key;
  return undefined;
}

function ipv4First(assignments: Assignment[]): Assignment[] {
  return assignments.sort((a, b) => (a.family === b.family ? 0 : a.family === "IPv4" ? -1 : 1));
}

/**
 * What to tell the user first when several families fail: a mistake in the request
 * before a missing pool, before a sharing clash, before a full pool (which may pass).
 */
const REASON_ORDER = ["InvalidRequest", "NoMatchingPool", "SharingConflict", "PoolExhausted"];

function mostActionable(failures: Failure[]): Failure {
  return failures.reduce((best, next) =>
    REASON_ORDER.indexOf(next.reason) < REASON_ORDER.indexOf(best.reason) ? next : best,
  );
}

function quoteList(names: readonly string[]): string {
  return names.map((name) => `"${name}"`).join(", ");
}
