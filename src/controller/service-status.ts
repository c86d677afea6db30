// What the controller writes on a Service after the allocator has decided, and which
// events it records: pure, so that "write only on change" and "one event per change"
// are decided in one place and tested without a server.
//
// Everything goes in one merge patch to services/status: Kubernetes keeps metadata sent
// to a core kind's status subresource, so the annotation rides along with the ingress
// and the condition (one write per service).
import { transitionTime, type Condition } from "../api/meta.ts";
import {
  ALLOCATED_CONDITION,
  ALLOCATED_FROM_ANNOTATION,
  type ServiceObject,
} from "../api/service.ts";
import type { Assignment, Outcome } from "../ipam/allocator.ts";
import type { ServiceRequest } from "../ipam/request.ts";

export interface ServiceEvent {
  type: "Normal" | "Warning";
  reason: "AddressAllocated" | "AllocationFailed" | "AddressReleased";
  message: string;
}

export interface StatusChange {
  /** A merge patch for services/status, or undefined when the Service already says it all. */
  patch: Record<string, unknown> | undefined;
  events: ServiceEvent[];
}

/** A condition as read: client-node hands typed objects' times over as Dates. */
type ConditionRead = Omit<Condition, "status" | "lastTransitionTime"> & {
  status: string;
  lastTransitionTime?: string | Date;
};

type ServiceWithConditions = ServiceObject & { status?: { conditions?: ConditionRead[] } };

/**
 * @param before what the allocator held for the service before this decision
 * @param now the time for lastTransitionTime, as RFC 3339
 */
export function statusChange(
  service: ServiceWithConditions,
  request: ServiceRequest,
  outcome: Outcome,
  before: readonly Assignment[],
  now: string,
): StatusChange {
  const events: ServiceEvent[] = [];
  const annotations = service.metadata?.annotations ?? {};
  const currentIngress = service.status?.loadBalancer?.ingress ?? [];
  const currentConditions = service.status?.conditions ?? [];
  const ours = currentConditions.find((c) => c.type === ALLOCATED_CONDITION);
  const others = currentConditions.filter((c) => c.type !== ALLOCATED_CONDITION);

  const kept = outcome.assignments.map((a) => a.address);
  const released = before.filter((a) => !kept.includes(a.address)).map((a) => a.address);
  const managed =
    ours !== undefined || annotations[ALLOCATED_FROM_ANNOTATION] !== undefined || before.length > 0;

  if (request.ignored !== undefined) {
    // Not ours (any more): take back only what Herald put there.
    if (!managed) return { patch: undefined, events };
    const ingress = currentIngress.filter((entry) => !entry.ip || !released.includes(entry.ip));
    if (released.length > 0) {
      events.push({
        type: "Normal",
        reason: "AddressReleased",
        message: `Released ${released.join(", ")}: ${request.ignored}`,
      });
    }
    return {
      patch: {
        metadata: { annotations: { [ALLOCATED_FROM_ANNOTATION]: null } },
        status: {
          loadBalancer: { ingress: ingress.length > 0 ? ingress : null },
          conditions: others,
        },
      },
      events,
    };
  }

  const pools = [...new Set(outcome.assignments.map((a) => a.pool))].join(",");
  const condition = allocatedCondition(outcome, pools, service.metadata?.generation, ours, now);
  const ingressChanged =
    !sameList(
      currentIngress.map((entry) => entry.ip ?? ""),
      kept,
    ) || currentIngress.some((e) => e.hostname);
  const conditionChanged = !sameCondition(ours, condition);
  const annotationChanged = (annotations[ALLOCATED_FROM_ANNOTATION] ?? "") !== pools;

  for (const note of outcome.givenUp) {
    events.push({ type: "Normal", reason: "AddressReleased", message: capitalise(note) });
  }
  const added = kept.filter((address) => !before.some((a) => a.address === address));
  if (added.length > 0) {
    events.push({
      type: "Normal",
      reason: "AddressAllocated",
      message: `Assigned ${added.join(", ")} from pool ${pools}`,
    });
  }
  if (outcome.failure && conditionChanged) {
    events.push({
      type: "Warning",
      reason: "AllocationFailed",
      message: `${outcome.failure.reason}: ${outcome.failure.message}`,
    });
  }
  if (!ingressChanged && !conditionChanged && !annotationChanged)
    return { patch: undefined, events };
  return {
    patch: {
      metadata: { annotations: { [ALLOCATED_FROM_ANNOTATION]: pools === "" ? null : pools } },
      status: {
        loadBalancer: { ingress: kept.length > 0 ? kept.map((ip) => ({ ip })) : null },
        conditions: [...others, condition],
      },
    },
    events,
  };
}

function allocatedCondition(
  outcome: Outcome,
  pools: string,
  generation: number | undefined,
  previous: ConditionRead | undefined,
  now: string,
): Condition {
  const addresses = outcome.assignments.map((a) => a.address).join(", ");
  const condition: Condition = outcome.failure
    ? {
        type: ALLOCATED_CONDITION,
        status: "False",
        reason: outcome.failure.reason,
        message: addresses
          ? `keeps ${addresses}; ${outcome.failure.message}`
          : outcome.failure.message,
      }
    : {
        type: ALLOCATED_CONDITION,
        status: "True",
        reason: "Allocated",
        message: [`${addresses} from pool ${pools}`, ...outcome.leftOut].join("; "),
      };
  if (generation !== undefined) condition.observedGeneration = generation;
  // The transition time moves only when the status does, as for every Kubernetes condition.
  condition.lastTransitionTime = transitionTime(previous, condition.status, Date.parse(now));
  return condition;
}

function sameCondition(a: ConditionRead | undefined, b: Condition): boolean {
  return (
    a !== undefined &&
    a.status === b.status &&
    a.reason === b.reason &&
    a.message === b.message &&
    a.observedGeneration === b.observedGeneration
  );
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
