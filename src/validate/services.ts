// Services in the input, through the allocator's own request parsing and `plan`: each
// failure is reported with the reason and message the controller would put in the
// service's herald.dev/Allocated=False condition.
import type { Labels } from "../api/selector.ts";
import {
  ADDRESSES_ANNOTATIONS,
  POOL_ANNOTATIONS,
  SHARING_KEY_ANNOTATIONS,
  type ServiceObject,
} from "../api/service.ts";
import { plan, type PlannedService } from "../ipam/plan.ts";
import type { Pool } from "../ipam/pool.ts";
import { readService, type Failure, type ServiceRequest } from "../ipam/request.ts";
import { sharingRefusal } from "../ipam/sharing.ts";
import type { CoreObject } from "./inventory.ts";
import { errorAt, warningAt, type Problem } from "./problem.ts";

export interface ServiceInput {
  readonly services: readonly CoreObject<ServiceObject>[];
  readonly namespaces: ReadonlyMap<string, Labels>;
  /** As the controller holds them (see pools.ts); empty: the input has no AddressPool. */
  readonly pools: readonly Pool[];
  /** The input holds AddressPools, so addresses and pool names can be checked. */
  readonly hasPools: boolean;
}

export function checkServices(input: ServiceInput): Problem[] {
  const requests = input.services.map((service) => readService(service.object));
  if (!input.hasPools) {
    // Without pools, where an address would come from cannot be told; what the service
    // asks for can still be read.
    return input.services.flatMap((service, i) => {
      const request = requests[i]!;
      if (request.ignored !== undefined || !request.invalid) return [];
      return [
        errorAt(
          service.subject,
          fieldOf(request.invalid.message),
          conditionText(request.invalid, []),
        ),
      ];
    });
  }
  const result = plan({
    pools: input.pools,
    namespaces: input.namespaces,
    services: input.services.map((service) => service.object),
  });
  const problems: Problem[] = [];
  result.services.forEach((planned, i) => {
    const service = input.services[i]!;
    if (planned.ignored !== null) return;
    if (planned.error) {
      problems.push(
        errorAt(
          service.subject,
          fieldOf(planned.error.message),
          conditionText(planned.error, planned.addresses),
        ),
      );
    }
    for (const note of planned.notes) {
      const field = note.startsWith("gave up")
        ? "status.loadBalancer.ingress"
        : "spec.ipFamilyPolicy";
      problems.push(warningAt(service.subject, field, note));
    }
  });
  problems.push(...sharingSplits(input.services, requests, result.services));
  return problems;
}

/** "Reason: message", the condition's reason and message as the controller writes them. */
function conditionText(failure: Failure, kept: readonly string[]): string {
  const message =
    kept.length > 0 ? `keeps ${kept.join(", ")}; ${failure.message}` : failure.message;
  return `${failure.reason}: ${message}`;
}

const SERVICE_FIELDS = [
  "spec.loadBalancerIP",
  "spec.ipFamilyPolicy",
  "spec.ipFamilies",
  "spec.externalTrafficPolicy",
];
const ANNOTATIONS = [...ADDRESSES_ANNOTATIONS, ...POOL_ANNOTATIONS, ...SHARING_KEY_ANNOTATIONS];

/** The field a message is about: the first field or annotation it names. */
function fieldOf(message: string): string {
  let best: { at: number; field: string } | undefined;
  const consider = (token: string, field: string) => {
    const at = message.indexOf(token);
    if (at >= 0 && (!best || at < best.at)) best = { at, field };
  };
  for (const field of SERVICE_FIELDS) consider(field, field);
  for (const annotation of ANNOTATIONS) consider(annotation, `metadata.annotations[${annotation}]`);
  return best?.field ?? "";
}

/**
 * Services with the same sharing key that did not end up on one address because the
 * sharing rules keep them apart: the allocator quietly gives each its own address, which
 * is rarely what the key was written for.
 */
function sharingSplits(
  services: readonly CoreObject<ServiceObject>[],
  requests: readonly ServiceRequest[],
  planned: readonly PlannedService[],
): Problem[] {
  const problems: Problem[] = [];
  for (let j = 0; j < requests.length; j++) {
    const later = requests[j]!;
    if (later.ignored !== undefined || later.sharing.key === undefined) continue;
    for (let i = 0; i < j; i++) {
      const earlier = requests[i]!;
      if (earlier.ignored !== undefined || earlier.sharing.key !== later.sharing.key) continue;
      const shared = planned[i]!.addresses.some((address) =>
        planned[j]!.addresses.includes(address),
      );
      if (shared || !commonFamily(planned[i]!.addresses, planned[j]!.addresses)) continue;
      const refusal = sharingRefusal(
        [{ service: earlier.key, terms: earlier.sharing }],
        later.sharing,
      );
      if (refusal === undefined) continue;
      problems.push(
        warningAt(
          services[j]!.subject,
          sharingAnnotationField(services[j]!.object),
          `shares sharing key "${later.sharing.key}" with ${earlier.key} but gets an address of its own: ${refusal}`,
        ),
      );
      break;
    }
  }
  return problems;
}

/** Whether two address lists have a family in common (only then could they share). */
function commonFamily(a: readonly string[], b: readonly string[]): boolean {
  const isIPv6 = (address: string) => address.includes(":");
  return a.some((x) => b.some((y) => isIPv6(x) === isIPv6(y)));
}

function sharingAnnotationField(service: ServiceObject): string {
  const annotations = service.metadata?.annotations ?? {};
  const name = SHARING_KEY_ANNOTATIONS.find((annotation) => annotations[annotation] !== undefined);
  return name ? `metadata.annotations[${name}]` : "";
}
