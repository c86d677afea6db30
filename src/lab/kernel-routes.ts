// Routes with next hops as `ip -j route show` prints them, in one shape: the prefix
// always with its length ("198.19.0.5/32", where ip prints "198.19.0.5") and the
// gateways of a single or multipath route, sorted. Pure; used to read the lab router's
// kernel (router.ts) and by GoBGP's FIB installer to compare what is installed.
import ipaddr from "ipaddr.js";

export interface KernelRoute {
  prefix: string;
  nexthops: string[];
}

interface IpRoute {
  dst?: string;
  gateway?: string;
  nexthops?: { gateway?: string }[];
}

/** Routes that go through a gateway (connected and blackhole routes are left out). */
export function parseIpRoutes(json: string): KernelRoute[] {
  if (!json.trim()) return [];
  const routes: KernelRoute[] = [];
  for (const route of JSON.parse(json) as IpRoute[]) {
    if (!route.dst) continue;
    const gateways = route.nexthops
      ? route.nexthops.map((hop) => hop.gateway).filter((hop): hop is string => Boolean(hop))
      : route.gateway
        ? [route.gateway]
        : [];
    if (gateways.length === 0) continue;
    routes.push({
      prefix: normalizePrefix(route.dst, gateways[0]!.includes(":")),
      nexthops: sortAddresses(gateways),
    });
  }
  return routes;
}

/** "198.19.0.5" → "198.19.0.5/32"; "default" → "0.0.0.0/0" or "::/0" by its gateway's family. */
export function normalizePrefix(prefix: string, v6 = prefix.includes(":")): string {
  if (prefix === "default") return v6 ? "::/0" : "0.0.0.0/0";
  const [address, length] = prefix.split("/");
  const parsed = ipaddr.parse(address!);
  const bits = parsed.kind() === "ipv6" ? 128 : 32;
  return `${parsed.toString()}/${length ?? bits}`;
}

/** Numeric order, IPv4 before IPv6, duplicates removed. */
export function sortAddresses(addresses: readonly string[]): string[] {
  const key = (address: string) => {
    const parsed = ipaddr.parse(address);
    const bytes = parsed.toByteArray();
    return `${parsed.kind() === "ipv4" ? 4 : 6}:${bytes.map((b) => b.toString(16).padStart(2, "0")).join("")}`;
  };
  return [...new Set(addresses.map((address) => ipaddr.parse(address).toString()))].sort((a, b) =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0,
  );
}
