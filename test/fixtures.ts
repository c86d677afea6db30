// Builders for the objects tests feed the allocator: the shortest readable way to write
// an AddressPool or a Service, filled out the way the API server would store them.
import type { AddressPoolSpec } from "../src/api/addresspool.ts";
import type { ServiceObject } from "../src/api/service.ts";
import { compilePool, type Pool } from "../src/ipam/pool.ts";
import { plan, type Plan, type PlannedService } from "../src/ipam/plan.ts";
import type { Labels } from "../src/api/selector.ts";

export function poolObject(
  name: string,
  spec: Partial<AddressPoolSpec> & { addresses: string[] },
  createdAt?: string,
) {
  return {
    apiVersion: "herald.dev/v1alpha1",
    kind: "AddressPool",
    metadata: { name, ...(createdAt ? { creationTimestamp: createdAt } : {}) },
    spec,
  };
}

export function pool(
  name: string,
  spec: Partial<AddressPoolSpec> & { addresses: string[] },
  createdAt?: string,
): Pool {
  const compiled = compilePool(poolObject(name, spec, createdAt));
  if (compiled.problems)
    throw new Error(`test pool ${name} is invalid: ${compiled.problems.join("; ")}`);
  return compiled.pool;
}

export interface ServiceOptions {
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  type?: string;
  loadBalancerClass?: string;
  loadBalancerIP?: string;
  ipFamilies?: ("IPv4" | "IPv6")[];
  ipFamilyPolicy?: "SingleStack" | "PreferDualStack" | "RequireDualStack";
  externalTrafficPolicy?: string;
  selector?: Record<string, string>;
  ports?: { protocol?: string; port: number }[];
  held?: string[];
}

export function service(name: string, options: ServiceOptions = {}): ServiceObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name,
      namespace: options.namespace ?? "default",
      ...(options.labels ? { labels: options.labels } : {}),
      ...(options.annotations ? { annotations: options.annotations } : {}),
    },
    spec: {
      type: options.type ?? "LoadBalancer",
      ...(options.loadBalancerClass ? { loadBalancerClass: options.loadBalancerClass } : {}),
      ...(options.loadBalancerIP ? { loadBalancerIP: options.loadBalancerIP } : {}),
      ...(options.ipFamilies ? { ipFamilies: options.ipFamilies } : {}),
      ...(options.ipFamilyPolicy ? { ipFamilyPolicy: options.ipFamilyPolicy } : {}),
      ...(options.externalTrafficPolicy
        ? { externalTrafficPolicy: options.externalTrafficPolicy }
        : {}),
      selector: options.selector ?? { app: name },
      ports: options.ports ?? [{ protocol: "TCP", port: 80 }],
    },
    ...(options.held
      ? { status: { loadBalancer: { ingress: options.held.map((ip) => ({ ip })) } } }
      : {}),
  };
}

export function planFor(
  pools: Pool[],
  services: ServiceObject[],
  namespaces: Record<string, Labels> = {},
  classOnly = false,
): Plan {
  return plan({ pools, services, namespaces: new Map(Object.entries(namespaces)), classOnly });
}

/** The planned service by name (default namespace unless given as ns/name). */
export function planned(result: Plan, key: string): PlannedService {
  const [namespace, name] = key.includes("/") ? key.split("/") : ["default", key];
  const found = result.services.find((s) => s.namespace === namespace && s.name === name);
  if (!found) throw new Error(`no planned service ${key}`);
  return found;
}

/** Writes planned addresses back as held ingress, as the controller would. */
export function withHeld(services: ServiceObject[], result: Plan): ServiceObject[] {
  return services.map((svc, i) => {
    const addresses = result.services[i]!.addresses;
    const copy = structuredClone(svc);
    if (addresses.length > 0)
      copy.status = { loadBalancer: { ingress: addresses.map((ip) => ({ ip })) } };
    else delete copy.status;
    return copy;
  });
}
