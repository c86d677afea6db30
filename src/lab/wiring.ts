// Turns a topology into the `ip` and `sysctl` commands that build it, in phases: the
// sequences of one phase are independent and run at once, the commands of a sequence in
// order. Pure, so the exact commands are tested without root; netns.ts runs them.
import { BRIDGE, type LinkEnd, type Topology } from "./topology.ts";

/** `ip [-n namespace] …args`, or `sysctl -w` of the settings in the namespace. */
export type Command =
  | { readonly namespace: string | null; readonly ip: readonly string[] }
  | { readonly namespace: string | null; readonly sysctl: Readonly<Record<string, string>> };

export type Sequence = readonly Command[];
export type Phase = readonly Sequence[];

export function buildPhases(topology: Topology): Phase[] {
  const ip = (namespace: string | null, ...args: string[]): Command => ({ namespace, ip: args });
  const lan = topology.lanNamespace;

  const namespaces: Phase = topology.namespaces.map((ns) => [ip(null, "netns", "add", ns.name)]);

  // Sysctls first: `default.*` values apply to links made afterwards.
  const settings: Phase = topology.namespaces.map((ns) => [
    ...(Object.keys(ns.sysctls).length > 0 ? [{ namespace: ns.name, sysctl: ns.sysctls }] : []),
    ip(ns.name, "link", "set", "lo", "up"),
    ...(ns.name === lan
      ? [
          // STP off and no forward delay: ports forward at once. No multicast snooping:
          // NDP's solicited-node multicast must reach every port, MLD report or not.
          ip(
            lan,
            "link",
            "add",
            BRIDGE,
            "type",
            "bridge",
            "forward_delay",
            "0",
            "stp_state",
            "0",
            "mcast_snooping",
            "0",
          ),
          ip(lan, "link", "set", BRIDGE, "up"),
        ]
      : []),
  ]);

  const links: Phase = topology.links.map((link) => {
    const { a, b } = link;
    if (b.namespace === null) throw new Error("a link's far end must be in a namespace");
    const sequence: Command[] = [
      ip(
        a.namespace,
        "link",
        "add",
        a.name,
        ...macArgs(a),
        "type",
        "veth",
        "peer",
        "name",
        b.name,
        ...macArgs(b),
        ...(b.namespace !== a.namespace ? ["netns", b.namespace] : []),
      ),
    ];
    // The host end's own settings (DAD, rp_filter) must be in place before it comes up.
    if (a.namespace === null && a.name === topology.host.interface)
      sequence.push({ namespace: null, sysctl: topology.hostSysctls });
    for (const end of [a, b]) sequence.push(...configure(end));
    return sequence;
  });

  const routes = new Map<string, Command[]>();
  for (const route of topology.routes) {
    const family = route.via.includes(":") ? "-6" : "-4";
    const list = routes.get(route.namespace) ?? [];
    list.push(ip(route.namespace, family, "route", "add", "default", "via", route.via));
    routes.set(route.namespace, list);
  }

  return [namespaces, settings, links, [...routes.values()]];
}

function macArgs(end: LinkEnd): string[] {
  return end.mac ? ["address", end.mac] : [];
}

function configure(end: LinkEnd): Command[] {
  const commands: Command[] = end.addresses.map((cidr) => ({
    namespace: end.namespace,
    // nodad: a static address is usable at once instead of after a second of DAD.
    ip: ["addr", "add", cidr, "dev", end.name, ...(cidr.includes(":") ? ["nodad"] : [])],
  }));
  commands.push({
    namespace: end.namespace,
    ip: ["link", "set", end.name, ...(end.bridge ? ["master", end.bridge] : []), "up"],
  });
  return commands;
}
