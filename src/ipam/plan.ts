// `herald plan` without the I/O: pools, namespaces and services in; what the controller
// would do out. Services holding addresses are restored first, then every service is
// assigned in the order given (DESIGN §4, rule 8).
//
// One pass is enough: within it, the addresses a service could take only shrink after its
// turn (those given back are ones it saw free), so a service that waits would still wait
// on a second pass. The property tests hold plan to that.
import type { FamilyCounts } from "../api/addresspool.ts";
import type { Condition } from "../api/meta.ts";
import { poolStatus } from "./pool-status.ts";
import type { Labels } from "../api/selector.ts";
import type { ServiceObject } from "../api/service.ts";
import { Allocator, type Outcome } from "./allocator.ts";
import type { Pool } from "./pool.ts";
import { PoolSet } from "./pool-set.ts";
import { readService, type Failure } from "./request.ts";

export interface PlanInput {
  readonly pools: readonly Pool[];
  /** namespace name -> labels, for namespaceSelector. */
  readonly namespaces: ReadonlyMap<string, Labels>;
  readonly services: readonly ServiceObject[];
  readonly classOnly?: boolean;
}

export interface PlannedService {
  readonly namespace: string;
  readonly name: string;
  /** IPv4 first. */
  readonly addresses: string[];
  /** The pool, or one per family joined by "," when they differ; null with no address. */
  readonly pool: string | null;
  readonly error: Failure | null;
  /** Addresses given up and families left out, one sentence each. */
  readonly notes: string[];
  /** Why Herald leaves the service alone, if it does. */
  readonly ignored: string | null;
}

export interface PlannedPool {
  readonly name: string;
  readonly capacity: FamilyCounts;
  readonly allocated: FamilyCounts;
  readonly conditions: Condition[];
}

export interface Plan {
  readonly services: PlannedService[];
  readonly pools: PlannedPool[];
}

export function plan(input: PlanInput): Plan {
  const pools = new PoolSet(input.pools);
  const allocator = new Allocator(pools, (namespace) =>
    namespaceLabels(input.namespaces, namespace),
  );
  const requests = input.services.map((service) =>
    readService(service, { classOnly: input.classOnly }),
  );

  const restored = new Map<string, Outcome>();
  for (const request of requests) {
    if (request.ignored === undefined && request.held.length > 0) {
      restored.set(request.key, allocator.restore(request));
    }
  }
  const outcomes = requests.map((request) => allocator.assign(request));
  const services = requests.map((request, i): PlannedService => {
    const outcome = outcomes[i]!;
    const poolNames = [...new Set(outcome.assignments.map((assignment) => assignment.pool))];
    return {
      namespace: request.namespace,
      name: request.name,
      addresses: outcome.assignments.map((assignment) => assignment.address),
      pool: poolNames.length > 0 ? poolNames.join(",") : null,
      error: outcome.failure ?? null,
      notes: [
        ...(restored.get(request.key)?.givenUp ?? []),
        ...outcome.givenUp,
        ...outcome.leftOut,
      ],
      ignored: request.ignored ?? null,
    };
  });

  return {
    services,
    pools: input.pools.map((pool) => {
      const status = poolStatus(pool, pools, allocator.allocated(pool.name));
      return {
        name: pool.name,
        capacity: status.capacity,
        allocated: status.allocated,
        conditions: status.conditions,
      };
    }),
  };
}

function namespaceLabels(namespaces: ReadonlyMap<string, Labels>, namespace: string): Labels {
  // The API server puts this label on every namespace; selectors may rely on it.
  return { ...namespaces.get(namespace), "kubernetes.io/metadata.name": namespace };
}
