// What the API server fills in that Herald relies on: a Service's cluster IPs and
// families (devkube is a dual-stack cluster), node ports, and the usual spec defaults.
import { formatAddress, parseAddress, type Family } from "../ip.ts";
import type { KubeObject } from "./store.ts";

const SERVICE_CIDRS: Record<Family, { first: bigint; size: bigint }> = {
  IPv4: { first: parseAddress("10.96.0.10")!.value, size: 1n << 20n },
  IPv6: { first: parseAddress("fd00:10:96::10")!.value, size: 1n << 20n },
};
const NODE_PORTS = { first: 30000, last: 32767 };

type ServiceSpec = {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  ipFamilies?: Family[];
  ipFamilyPolicy?: string;
  sessionAffinity?: string;
  externalTrafficPolicy?: string;
  internalTrafficPolicy?: string;
  allocateLoadBalancerNodePorts?: boolean;
  ports?: { protocol?: string; port?: number; targetPort?: unknown; nodePort?: number }[];
};

/** Allocates cluster IPs and node ports for Services, and gives them back. */
export class ServiceAddresses {
  private readonly clusterIPs = new Set<string>();
  private readonly nodePorts = new Set<number>();
  private readonly next: Record<Family, bigint> = { IPv4: 0n, IPv6: 0n };
  private nextPort = NODE_PORTS.first;

  /** Fills in a Service's spec on create, or on update from `old`. Returns a problem, if any. */
  default(service: KubeObject, old?: KubeObject): string | undefined {
    const spec = (service.spec ??= {}) as ServiceSpec;
    const oldSpec = old?.spec as ServiceSpec | undefined;
    spec.type ??= "ClusterIP";
    spec.sessionAffinity ??= "None";
    spec.internalTrafficPolicy ??= "Cluster";
    for (const port of spec.ports ?? []) {
      port.protocol ??= "TCP";
      port.targetPort ??= port.port;
    }
    if (spec.type === "ExternalName") return undefined;

    if (oldSpec?.clusterIPs && spec.clusterIP === undefined && spec.clusterIPs === undefined) {
      // Cluster IPs cannot change; an update that leaves them out keeps them.
      spec.clusterIP = oldSpec.clusterIP;
      spec.clusterIPs = oldSpec.clusterIPs;
      spec.ipFamilies = oldSpec.ipFamilies;
      spec.ipFamilyPolicy ??= oldSpec.ipFamilyPolicy;
    }
    if (spec.clusterIP !== "None" && !spec.clusterIPs?.length) {
      const problem = this.allocateClusterIPs(spec);
      if (problem) return problem;
    } else if (spec.clusterIP === "None") {
      spec.clusterIPs = ["None"];
      spec.ipFamilyPolicy ??= "SingleStack";
      spec.ipFamilies ??= ["IPv4"];
    } else {
      for (const ip of spec.clusterIPs!) this.clusterIPs.add(ip);
      spec.clusterIP = spec.clusterIPs![0];
      spec.ipFamilies ??= spec.clusterIPs!.map((ip) => parseAddress(ip)?.family ?? "IPv4");
      spec.ipFamilyPolicy ??= spec.clusterIPs!.length > 1 ? "RequireDualStack" : "SingleStack";
    }

    if (spec.type === "NodePort" || spec.type === "LoadBalancer") {
      spec.externalTrafficPolicy ??= "Cluster";
      if (spec.type === "LoadBalancer") spec.allocateLoadBalancerNodePorts ??= true;
      for (const port of spec.ports ?? []) {
        const kept = oldSpec?.ports?.find(
          (p) => p.port === port.port && p.protocol === port.protocol,
        );
        port.nodePort ??= kept?.nodePort ?? this.allocatePort();
      }
    } else {
      delete spec.externalTrafficPolicy;
      for (const port of spec.ports ?? []) delete port.nodePort;
    }
    return undefined;
  }

  /** Takes a copy of what is allocated; the function returned puts it back (for dry runs). */
  snapshot(): () => void {
    const clusterIPs = [...this.clusterIPs];
    const nodePorts = [...this.nodePorts];
    const next = { ...this.next };
    const nextPort = this.nextPort;
    return () => {
      this.clusterIPs.clear();
      for (const ip of clusterIPs) this.clusterIPs.add(ip);
      this.nodePorts.clear();
      for (const port of nodePorts) this.nodePorts.add(port);
      Object.assign(this.next, next);
      this.nextPort = nextPort;
    };
  }

  release(service: KubeObject): void {
    const spec = service.spec as ServiceSpec | undefined;
    for (const ip of spec?.clusterIPs ?? []) this.clusterIPs.delete(ip);
    for (const port of spec?.ports ?? []) if (port.nodePort) this.nodePorts.delete(port.nodePort);
  }

  private allocateClusterIPs(spec: ServiceSpec): string | undefined {
    const requested = spec.ipFamilies?.length ? [...spec.ipFamilies] : undefined;
    const policy = spec.ipFamilyPolicy ?? "SingleStack";
    let families: Family[] = requested ?? ["IPv4"];
    if (policy === "SingleStack") families = families.slice(0, 1);
    else if (families.length === 1) families.push(families[0] === "IPv4" ? "IPv6" : "IPv4");
    if (spec.clusterIP && spec.clusterIP !== "") {
      const given = parseAddress(spec.clusterIP);
      if (!given)
        return `spec.clusterIP: Invalid value: "${spec.clusterIP}": must be a valid IP address`;
      families = [given.family, ...families.filter((f) => f !== given.family)];
    }
    const ips = families.map((family, i) =>
      i === 0 && spec.clusterIP ? spec.clusterIP : this.allocateIP(family),
    );
    for (const ip of ips) this.clusterIPs.add(ip);
    spec.clusterIP = ips[0];
    spec.clusterIPs = ips;
    spec.ipFamilies = families;
    spec.ipFamilyPolicy = policy;
    return undefined;
  }

  private allocateIP(family: Family): string {
    const cidr = SERVICE_CIDRS[family];
    for (;;) {
      const value = cidr.first + (this.next[family]++ % cidr.size);
      const text = formatAddress({ family, value });
      if (!this.clusterIPs.has(text)) return text;
    }
  }

  private allocatePort(): number {
    // A full range gives 0 at once: scanning it for each Service of a burst beyond 2,768
    // LoadBalancers made creating them devkube's largest cost.
    if (this.nodePorts.size > NODE_PORTS.last - NODE_PORTS.first) return 0;
    for (let tries = 0; tries <= NODE_PORTS.last - NODE_PORTS.first; tries++) {
      const port = this.nextPort;
      this.nextPort = port === NODE_PORTS.last ? NODE_PORTS.first : port + 1;
      if (!this.nodePorts.has(port)) {
        this.nodePorts.add(port);
        return port;
      }
    }
    return 0;
  }
}
