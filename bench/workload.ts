// Synthetic sites for the benchmarks: pools of both families and many services with the
// mix of requests a real cluster has (dual-stack, sharing, named pools, requested addresses).
import type { ServiceObject } from "../src/api/service.ts";

export interface Workload {
  pools: Record<string, unknown>[];
  services: ServiceObject[];
}

function poolObject(name: string, spec: Record<string, unknown>) {
  return { apiVersion: "herald.dev/v1alpha1", kind: "AddressPool", metadata: { name }, spec };
}

/** A deterministic generator, so every run allocates the same services. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * `count` services over four IPv4 pools (one restricted to a namespace, one /16 with
 * avoidBuggyIPs) and one IPv6 pool of the given prefix length.
 */
export function mixedSite(count: number, ipv6Prefix = 64): Workload {
  const rand = random(42);
  const pools = [
    poolObject("edge", { addresses: ["192.168.0.0/22"], priority: 1 }),
    poolObject("team-a", { addresses: ["10.10.0.0/20"], allocation: { namespaces: ["team-a"] } }),
    poolObject("bulk", {
      addresses: ["10.20.0.0/16", "10.21.0.0/16"],
      avoidBuggyIPs: true,
      priority: 5,
    }),
    poolObject("manual", { addresses: ["10.30.0.0/20"], autoAssign: false }),
    poolObject("requested", { addresses: ["10.31.0.0/16"], autoAssign: false }),
    poolObject("v6", { addresses: [`2001:db8:100::/${ipv6Prefix}`], priority: 5 }),
  ];
  const services: ServiceObject[] = [];
  for (let i = 0; i < count; i++) {
    const r = rand();
    const annotations: Record<string, string> = {};
    let families: ("IPv4" | "IPv6")[] = ["IPv4"];
    let policy: "SingleStack" | "RequireDualStack" = "SingleStack";
    if (r < 0.2) families = ["IPv6"];
    else if (r < 0.4) {
      families = ["IPv4", "IPv6"];
      policy = "RequireDualStack";
    }
    const kind = rand();
    const ipv4Only = families.length === 1 && families[0] === "IPv4";
    if (kind < 0.05) annotations["herald.dev/sharing-key"] = `share-${i % 500}`;
    else if (!ipv4Only) {
      // named pools and requested addresses below are IPv4
    } else if (kind < 0.08) annotations["herald.dev/pool"] = "manual";
    else if (kind < 0.1) annotations["herald.dev/addresses"] = `10.31.${(i >> 8) & 255}.${i & 255}`;
    services.push({
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name: `svc-${i}`,
        namespace: i % 10 === 0 ? "team-a" : `ns-${i % 50}`,
        annotations,
      },
      spec: {
        type: "LoadBalancer",
        ipFamilies: families,
        ipFamilyPolicy: policy,
        selector: { app: `app-${i}` },
        ports: [{ protocol: "TCP", port: 1000 + (i % 1000) }],
      },
    });
  }
  return { pools, services };
}

/** `count` IPv6-only services in one pool of the given prefix length. */
export function ipv6Site(count: number, ipv6Prefix: number): Workload {
  const services: ServiceObject[] = [];
  for (let i = 0; i < count; i++) {
    services.push({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: `svc-${i}`, namespace: "default" },
      spec: { type: "LoadBalancer", ipFamilies: ["IPv6"], ports: [{ port: 80 }] },
    });
  }
  return { pools: [poolObject("v6", { addresses: [`2001:db8:100::/${ipv6Prefix}`] })], services };
}
