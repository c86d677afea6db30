// The paths the router's BGP daemon holds for one prefix, with the attributes Herald sets
// (next hop, local preference, communities, large communities), read into one shape from
// each daemon's own output. Pure parsers; router.ts runs the commands. Communities are
// written "high:low" in numbers whatever the daemon prints ("no-export" is 65535:65281),
// so a test compares them as configured in a BGPAdvertisement after the same conversion.
import { parseCommunity } from "../agent/bird/communities.ts";
import { normalizeAddress } from "./router-sessions.ts";

export interface RouterPath {
  readonly nexthop: string;
  readonly localPref: number | undefined;
  readonly communities: readonly string[];
  readonly largeCommunities: readonly string[];
}

/** `birdc show route <prefix> all`: one path per "unicast [...]" entry. */
export function birdPaths(text: string): RouterPath[] {
  const paths: RouterPath[] = [];
  let current: {
    nexthop: string;
    localPref?: number;
    communities: string[];
    largeCommunities: string[];
  } | null = null;
  const finish = () => {
    if (current) paths.push({ localPref: undefined, ...current });
    current = null;
  };
  for (const line of text.split("\n")) {
    if (/\bunicast \[/.test(line)) {
      finish();
      current = { nexthop: "", communities: [], largeCommunities: [] };
      continue;
    }
    if (!current) continue;
    const trimmed = line.trim();
    const via = /^via (\S+)/.exec(trimmed);
    if (via) current.nexthop = normalizeAddress(via[1]!);
    const field = /^BGP\.(\w+): (.*)$/.exec(trimmed);
    if (!field) continue;
    const [, name, value] = field;
    if (name === "local_pref") current.localPref = Number(value);
    else if (name === "community")
      current.communities = [...value!.matchAll(/\((\d+),(\d+)\)/g)].map((m) => `${m[1]}:${m[2]}`);
    else if (name === "large_community")
      current.largeCommunities = [...value!.matchAll(/\((\d+), (\d+), (\d+)\)/g)].map(
        (m) => `${m[1]}:${m[2]}:${m[3]}`,
      );
  }
  finish();
  return paths;
}

/** vtysh `show bgp ipv4|ipv6 unicast <prefix> json`. */
export function frrPaths(json: string): RouterPath[] {
  const parsed = JSON.parse(json || "{}") as {
    paths?: {
      locPrf?: number;
      community?: { string?: string };
      largeCommunity?: { string?: string };
      nexthops?: { ip?: string; scope?: string }[];
    }[];
  };
  return (parsed.paths ?? []).map((path) => ({
    nexthop: normalizeAddress(
      path.nexthops?.find((hop) => hop.scope !== "link-local")?.ip ?? path.nexthops?.[0]?.ip ?? "",
    ),
    localPref: path.locPrf,
    communities: words(path.community?.string).map(numericCommunity),
    largeCommunities: words(path.largeCommunity?.string),
  }));
}

/** `gobgp global rib -a ipv4|ipv6 <prefix> -j`: attributes by their BGP type code. */
export function gobgpPaths(json: string): RouterPath[] {
  const parsed = JSON.parse(json || "{}") as Record<
    string,
    {
      attrs?: {
        type: number;
        value?: unknown;
        nexthop?: string;
        communities?: number[];
      }[];
    }[]
  >;
  const paths: RouterPath[] = [];
  for (const entries of Object.values(parsed ?? {}))
    for (const entry of entries ?? []) {
      const attrs = entry.attrs ?? [];
      const attr = (type: number) => attrs.find((a) => a.type === type);
      // NEXT_HOP (3) for IPv4, MP_REACH_NLRI (14) for IPv6.
      const nexthop = attr(3)?.nexthop ?? attr(14)?.nexthop ?? "";
      const large = (attr(32)?.value ?? []) as {
        ASN: number;
        LocalData1: number;
        LocalData2: number;
      }[];
      paths.push({
        nexthop: normalizeAddress(nexthop),
        localPref: attr(5)?.value as number | undefined,
        communities: (attr(8)?.communities ?? []).map(
          (n) => `${Math.floor(n / 65536)}:${n % 65536}`,
        ),
        largeCommunities: large.map((c) => `${c.ASN}:${c.LocalData1}:${c.LocalData2}`),
      });
    }
  return paths;
}

/** "64512:100" stays; a well-known name ("no-export") becomes its numbers. */
export function numericCommunity(community: string): string {
  // FRR's name for no-export-subconfed (RFC 1997 calls it NO_EXPORT_SUBCONFED).
  const parsed = parseCommunity(community === "local-AS" ? "no-export-subconfed" : community);
  return parsed ? `${parsed[0]}:${parsed[1]}` : community;
}

function words(text: string | undefined): string[] {
  return (text ?? "").split(/\s+/).filter((word) => word !== "");
}
