// How a takeover is made known on the link: the commands to run and how to read what they
// print. IPv4 has gratuitous ARP (`arping`). For IPv6 the kernel would send an unsolicited
// neighbour advertisement with ndisc_notify=1, but only after DAD, and the agent adds its
// addresses with nodad (the address moves from a dead node; DAD would hold it back a second
// or more). Node has no raw sockets, so the agent sends a neighbour solicitation *from* the
// address to each neighbour it knows (`ndisc6 -s`): RFC 4861 §7.2.3 makes every receiver
// record the source address with the link-layer address the solicitation carries,
// overriding a stale one, which is the effect of the advertisement on those neighbours.
import { canonicalAddress } from "../../ip.ts";

/**
 * Two unrelated programs are called `arping`: Thomas Habets' (Debian package `arping`) and
 * iputils' (Debian `iputils-arping`, most other distributions). BusyBox's takes iputils'
 * flags and prints the same summary.
 */
export type ArpingFlavour = "habets" | "iputils";

/** Reads the flavour from what `arping -V` or `arping --help` printed (stdout and stderr). */
export function detectArpingFlavour(output: string): ArpingFlavour | undefined {
  if (/Habets/i.test(output)) return "habets";
  // iputils: "arping from iputils 20240117" / "arping utility, iputils-s20180629"; its usage
  // and BusyBox's name the interface option "-I device".
  if (/iputils|BusyBox|-I <?device>?/i.test(output)) return "iputils";
  return undefined;
}

/**
 * One gratuitous ARP request (sender and target address both the announced one, broadcast),
 * the form every Linux neighbour accepts over an existing entry. Habets' `-U` broadcasts but
 * keeps the interface's primary address as sender unless `-S` says otherwise (seen on 2.23),
 * and without `-w` it lingers a second for replies that never come. iputils' `-U` takes the
 * target as sender itself and exits as soon as the last packet is out.
 */
export function garpArguments(flavour: ArpingFlavour, iface: string, address: string): string[] {
  return flavour === "habets"
    ? ["-U", "-i", iface, "-S", address, "-c", "1", "-w", "0.01", address]
    : ["-U", "-I", iface, "-c", "1", address];
}

/**
 * How many ARP packets an arping run reports having sent; undefined when it printed no
 * summary (it failed before sending). Habets' exits 1 when nothing answers, which a
 * gratuitous ARP never expects, so the summary, not the exit code, tells success.
 */
export function arpingSentCount(flavour: ArpingFlavour, stdout: string): number | undefined {
  const match =
    flavour === "habets"
      ? /(\d+) packets transmitted/.exec(stdout)
      : /Sent (\d+) probe/.exec(stdout);
  return match ? Number(match[1]) : undefined;
}

// A node on a large flat network can know hundreds of neighbours; beyond this many, the
// rest learn the move by their own reachability probes (a few seconds) instead.
export const MAX_SOLICITATION_TARGETS = 64;

// Neighbour states whose entry names a host that answered recently enough to be there.
const LIVE_NEIGHBOUR_STATES = new Set(["REACHABLE", "STALE", "DELAY", "PROBE", "PERMANENT"]);

/**
 * The neighbours to solicit from a newly held IPv6 address, one address per host (by
 * link-layer address): default routers first, since every off-link client reaches the
 * address through them, then other routers, then the rest. Input is the JSON of
 * `ip -6 -j neigh show dev IFACE` and `ip -6 -j route show default dev IFACE`.
 */
export function solicitationTargets(
  neighboursJson: unknown,
  defaultRoutesJson: unknown,
  announced: string,
): string[] {
  const gateways: string[] = [];
  for (const route of arrayOf(defaultRoutesJson)) {
    const hops = Array.isArray(route["nexthops"]) ? route["nexthops"] : [route];
    for (const hop of hops) {
      const gateway = canonicalOf((hop as Record<string, unknown>)["gateway"]);
      if (gateway !== undefined) gateways.push(gateway);
    }
  }
  const routers: string[] = [];
  const others: string[] = [];
  const hostOf = new Map<string, string>(); // neighbour address -> link-layer address
  for (const entry of arrayOf(neighboursJson)) {
    const address = canonicalOf(entry["dst"]);
    const mac = entry["lladdr"];
    const states = Array.isArray(entry["state"]) ? entry["state"] : [];
    if (address === undefined || typeof mac !== "string") continue;
    if (!states.some((s) => LIVE_NEIGHBOUR_STATES.has(String(s)))) continue;
    hostOf.set(address, mac.toLowerCase());
    ("router" in entry ? routers : others).push(address);
  }

  const self = canonicalAddress(announced);
  const targets: string[] = [];
  const seenHosts = new Set<string>();
  for (const address of [...gateways, ...routers, ...others]) {
    if (address === self) continue;
    const host = hostOf.get(address) ?? address;
    if (seenHosts.has(host)) continue;
    seenHosts.add(host);
    targets.push(address);
  }
  return targets.slice(0, MAX_SOLICITATION_TARGETS);
}

/**
 * One neighbour solicitation from `source` to `target`'s solicited-node group, carrying the
 * interface's link-layer address. `-1 -r 1 -w 100`: one packet, and little waiting for the
 * answer, which does not matter. ndisc6 exits 0 when answered, 2 when sent but unanswered,
 * 1 when it could not send.
 */
export function solicitationArguments(iface: string, source: string, target: string): string[] {
  return ["-q", "-1", "-r", "1", "-w", "100", "-s", source, target, iface];
}

export const NDISC6_SENT_EXIT_CODES: ReadonlySet<number> = new Set([0, 2]);

function arrayOf(json: unknown): Record<string, unknown>[] {
  if (!Array.isArray(json)) return [];
  return json.filter((e): e is Record<string, unknown> => e !== null && typeof e === "object");
}

function canonicalOf(value: unknown): string | undefined {
  return typeof value === "string" ? canonicalAddress(value) : undefined;
}
