// bird.conf for one node, from its BGPPeers, BGPAdvertisements and routed prefixes.
//
// BIRD learns the routed addresses from the virtual interface itself (`protocol direct`
// on kube-lb0), so the agent never talks to BIRD about routes: it puts an address on the
// interface and BIRD sees it at once through netlink. What Herald decides is the policy:
// each peer's export filter names the exact prefixes it may receive, because a BIRD filter
// cannot ask which pool a prefix came from. Nothing is exchanged with the kernel's tables
// (no `protocol kernel`): Herald announces, it does not learn routes.
//
// The output depends only on the input, sorted, so unchanged input gives byte-identical
// text and the agent reloads BIRD only when something really changed.
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import type { BFDSettings } from "../../api/bgppeer.ts";
import type { Labels } from "../../api/selector.ts";
import { parseAddress, type Family } from "../../ip.ts";
import {
  compileAdvertisement,
  exportGroups,
  parseRoutes,
  peerFamilies,
  peersForNode,
  type CompiledAdvertisement,
  type ExportGroup,
  type NamedAdvertisement,
  type NamedPeer,
  type ParsedPrefix,
  type RoutedPrefix,
} from "./policy.ts";

export type { NamedAdvertisement, NamedPeer, RoutedPrefix } from "./policy.ts";
export { peersForNode } from "./policy.ts";

export interface BirdNode {
  name: string;
  labels: Labels;
  /** The node's IPv4 address: BIRD's router ID unless a BGPPeer sets routerID. */
  ipv4?: string;
  /** The node's global IPv6 address: the next hop of IPv6 routes sent over IPv4 sessions. */
  ipv6?: string;
}

export interface BirdInputs {
  node: BirdNode;
  /** From AgentConfig (agentSettings()): only the virtual interface matters here. */
  settings: { virtualInterface: string };
  /** Every BGPPeer; those whose nodeSelector does not admit this node are left out here. */
  peers: readonly NamedPeer[];
  advertisements: readonly NamedAdvertisement[];
  /** Pool name → the AddressPool's labels, for BGPAdvertisement.poolSelector. */
  poolLabels: ReadonlyMap<string, Labels>;
  /** The prefixes this node puts on the virtual interface for routed addresses. */
  routes: readonly RoutedPrefix[];
  /** BGPPeer name → the password read from its passwordSecretRef. */
  passwords: ReadonlyMap<string, string>;
}

export type RenderedBirdConfig = { config: string } | { error: string };

/** The `protocol direct` that reads the virtual interface; export filters accept only it. */
export const DIRECT_PROTOCOL = "herald_lb";
export const BFD_PROTOCOL = "herald_bfd";

// BIRD symbols are at most 64 characters; the export filters add "_export_ipv4".
const MAX_PROTOCOL_NAME = 48;
// BIRD's hold time when BGPPeer sets none.
const BIRD_HOLD_TIME = 240;
// The CRD's defaults, which are FRR's and MetalLB's.
const BFD_DEFAULTS: Required<BFDSettings> = { minRxMs: 300, minTxMs: 300, multiplier: 3 };

/**
 * The BIRD protocol name of a BGPPeer: `peer_` and the name with "-" as "_". Names that do
 * not survive that unchanged (dots, other characters, too long) also get a hash of the
 * real name, so two peers never share a protocol; the real name is in the protocol's
 * description, where `sessions()` reads it.
 */
export function protocolName(peer: string): string {
  const plain = `peer_${peer.replaceAll("-", "_")}`;
  if (/^[a-z0-9-]+$/i.test(peer) && plain.length <= MAX_PROTOCOL_NAME) return plain;
  const hash = createHash("sha256").update(peer).digest("hex").slice(0, 8);
  const cleaned = plain.replace(/[^A-Za-z0-9_]/g, "_").slice(0, MAX_PROTOCOL_NAME - 9);
  return `${cleaned}_${hash}`;
}

// BIRD's lexer has no escapes: a string runs to the next double quote, and may not span
// lines. Backslashes are therefore literal, and these characters cannot be written at all.
const UNQUOTABLE = /["\n\r\0]/;
// Linux refuses longer TCP MD5 keys (TCP_MD5SIG_MAXKEYLEN).
const MAX_PASSWORD_BYTES = 80;

/**
 * Why a BGP session's TCP MD5 password cannot be used, as the end of a sentence about it
 * ("is empty"); undefined when it can. `herald validate` asks the same offline.
 */
export function passwordProblem(password: string): string | undefined {
  if (password === "") return "is empty";
  if (UNQUOTABLE.test(password))
    return "contains a double quote or a line break, which BIRD's configuration cannot express";
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES)
    return `is longer than the ${MAX_PASSWORD_BYTES} bytes TCP MD5 allows`;
  return undefined;
}

function quote(text: string): string {
  return `"${text}"`;
}

function isUint(value: unknown, min: number, max: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

function familyOf(text: string | undefined): Family | undefined {
  return text === undefined ? undefined : parseAddress(text)?.family;
}

interface PeerPlan {
  peer: NamedPeer;
  protocol: string;
  transport: Family;
  internal: boolean;
  families: Family[];
  password?: string;
  bfd?: Required<BFDSettings>;
  /** Source address, when BIRD needs one (BFD on a multihop session). */
  local?: string;
  /** Next hop per family for families that differ from the session's transport. */
  nextHopAddress: Partial<Record<Family, string>>;
}

function planPeer(peer: NamedPeer, inputs: BirdInputs): PeerPlan | { error: string } {
  const { name, spec } = peer;
  const where = `BGPPeer "${name}"`;
  const address = parseAddress(spec.peerAddress);
  if (!address) {
    return { error: `${where}: peerAddress "${spec.peerAddress}" is not an IPv4 or IPv6 address` };
  }
  if (address.family === "IPv6" && address.value >> 118n === 0x3fan) {
    return {
      error: `${where}: peerAddress ${spec.peerAddress} is link-local, which needs an interface that BGPPeer cannot name; use a global address`,
    };
  }
  for (const [field, value] of [
    ["peerASN", spec.peerASN],
    ["localASN", spec.localASN],
  ] as const) {
    if (!isUint(value, 1, 0xffffffff)) {
      return { error: `${where}: ${field} ${value} is not an AS number from 1 to 4294967295` };
    }
  }
  const internal = spec.peerASN === spec.localASN;
  if (spec.port !== undefined && !isUint(spec.port, 1, 65535)) {
    return { error: `${where}: port ${spec.port} is not from 1 to 65535` };
  }
  if (spec.holdTime !== undefined && !(spec.holdTime === 0 || isUint(spec.holdTime, 3, 65535))) {
    return { error: `${where}: holdTime ${spec.holdTime} must be 0 or from 3 to 65535 seconds` };
  }
  if (spec.keepaliveTime !== undefined) {
    if (!isUint(spec.keepaliveTime, 0, 65535)) {
      return { error: `${where}: keepaliveTime ${spec.keepaliveTime} is not a number of seconds` };
    }
    const holdTime = spec.holdTime ?? BIRD_HOLD_TIME;
    if (holdTime !== 0 && spec.keepaliveTime >= holdTime) {
      return { error: `${where}: keepaliveTime must be less than the hold time (${holdTime} s)` };
    }
  }
  if (spec.ebgpMultihop !== undefined) {
    if (!isUint(spec.ebgpMultihop, 1, 255)) {
      return { error: `${where}: ebgpMultihop ${spec.ebgpMultihop} is not from 1 to 255` };
    }
    if (internal) {
      return {
        error: `${where}: ebgpMultihop applies to eBGP only; this session is iBGP because peerASN equals localASN`,
      };
    }
  }
  if (spec.routerID !== undefined && familyOf(spec.routerID) !== "IPv4") {
    return { error: `${where}: routerID "${spec.routerID}" is not an IPv4 address` };
  }
  if (spec.families?.some((f) => f !== "IPv4" && f !== "IPv6")) {
    return { error: `${where}: families may only hold IPv4 and IPv6` };
  }
  if (UNQUOTABLE.test(name))
    return { error: `${where}: the name cannot be written into BIRD's configuration` };

  const plan: PeerPlan = {
    peer,
    protocol: protocolName(name),
    transport: address.family,
    internal,
    families: peerFamilies(spec, address.family),
    nextHopAddress: {},
  };

  if (spec.passwordSecretRef) {
    const ref = spec.passwordSecretRef;
    const password = inputs.passwords.get(name);
    const secret = `${ref.namespace}/${ref.name} key "${ref.key ?? "password"}"`;
    if (password === undefined) {
      return { error: `${where}: its password (Secret ${secret}) could not be read` };
    }
    const problem = passwordProblem(password);
    if (problem) return { error: `${where}: its password (Secret ${secret}) ${problem}` };
    plan.password = password;
  }

  if (spec.bfd) {
    const bfd = { ...BFD_DEFAULTS, ...spec.bfd };
    if (!isUint(bfd.minRxMs, 10, 60000) || !isUint(bfd.minTxMs, 10, 60000)) {
      return { error: `${where}: BFD intervals must be from 10 to 60000 ms` };
    }
    if (!isUint(bfd.multiplier, 2, 255)) {
      return { error: `${where}: BFD multiplier must be from 2 to 255` };
    }
    plan.bfd = bfd;
    // BIRD runs BFD for a multihop session (every iBGP one, by BIRD's default) only from a
    // fixed source address: there is no interface to take one from.
    if (internal || spec.ebgpMultihop !== undefined) {
      const local = address.family === "IPv4" ? inputs.node.ipv4 : inputs.node.ipv6;
      if (!local) {
        return {
          error: `${where}: BFD on a multihop session needs the node's ${address.family} address as source, and node "${inputs.node.name}" has none`,
        };
      }
      plan.local = local;
    }
  }

  // A route of the other family needs a next hop of its own family, which the session's
  // address is not: the node's own address of that family, which the router must reach.
  for (const family of plan.families) {
    if (family === address.family) continue;
    const own = family === "IPv4" ? inputs.node.ipv4 : inputs.node.ipv6;
    if (!own) {
      return {
        error: `${where}: carrying ${family} over an ${address.family} session needs the node's ${family} address as next hop, and node "${inputs.node.name}" has none`,
      };
    }
    plan.nextHopAddress[family] = own;
  }
  return plan;
}

function exportFilterName(protocol: string, family: Family): string {
  return `${protocol}_export_${family === "IPv4" ? "ipv4" : "ipv6"}`;
}

function renderFilter(name: string, iface: string, groups: readonly ExportGroup[]): string[] {
  const lines = [`filter ${name} {`];
  // The direct protocol already reads only the virtual interface; checking again here keeps
  // a later change to the tables (a kernel protocol, a static route) from leaking out.
  lines.push(`  if proto != ${quote(DIRECT_PROTOCOL)} || ifname != ${quote(iface)} then reject;`);
  for (const group of groups) {
    lines.push(`  if net ~ [ ${group.prefixes.join(", ")} ] then {`);
    for (const [a, b] of group.communities) lines.push(`    bgp_community.add((${a}, ${b}));`);
    for (const [a, b, c] of group.largeCommunities) {
      lines.push(`    bgp_large_community.add((${a}, ${b}, ${c}));`);
    }
    if (group.localPreference !== undefined) {
      lines.push(`    bgp_local_pref = ${group.localPreference};`);
    }
    lines.push("    accept;", "  }");
  }
  lines.push("  reject;", "}");
  return lines;
}

function renderPeer(plan: PeerPlan, globalRouterId: string): string[] {
  const { spec } = plan.peer;
  const lines = [`protocol bgp ${plan.protocol} {`, `  description ${quote(plan.peer.name)};`];
  if (spec.routerID !== undefined && spec.routerID !== globalRouterId) {
    lines.push(`  router id ${spec.routerID};`);
  }
  lines.push(`  local ${plan.local ? `${plan.local} ` : ""}as ${spec.localASN};`);
  const port = spec.port !== undefined && spec.port !== 179 ? ` port ${spec.port}` : "";
  lines.push(`  neighbor ${spec.peerAddress}${port} as ${spec.peerASN};`);
  if (spec.ebgpMultihop !== undefined) lines.push(`  multihop ${spec.ebgpMultihop};`);
  if (plan.password !== undefined) lines.push(`  password ${quote(plan.password)};`);
  if (spec.holdTime !== undefined) lines.push(`  hold time ${spec.holdTime};`);
  // BIRD cannot turn keepalives off while a hold time runs (RFC 4271 allows 0 only with a
  // zero hold time); leaving it to BIRD's default, a third of the hold time, keeps the
  // session up, which silence would not.
  if (spec.keepaliveTime && spec.holdTime !== 0) {
    lines.push(`  keepalive time ${spec.keepaliveTime};`);
  }
  if (plan.bfd) {
    const { minRxMs, minTxMs, multiplier } = plan.bfd;
    lines.push(
      `  bfd { min rx interval ${minRxMs} ms; min tx interval ${minTxMs} ms; multiplier ${multiplier}; };`,
    );
  }
  // Communities are set for the router to act on. With BIRD's default, a no-export or
  // no-advertise set by our own export filter would stop BIRD sending the route at all.
  lines.push("  interpret communities off;");
  // BIRD waits 60–300 s after a session error (a BFD flap as the peer's BFD starts, a wrong
  // password being fixed) and 120 s between connection attempts; a load balancer's routes
  // should come back in seconds.
  lines.push("  connect retry time 5;");
  lines.push("  error wait time 5, 30;");
  for (const family of plan.families) {
    const channel = family === "IPv4" ? "ipv4" : "ipv6";
    lines.push(`  ${channel} {`, "    import none;");
    lines.push(`    export filter ${exportFilterName(plan.protocol, family)};`);
    // Our routes are device routes without a gateway: the router must send the traffic to
    // this node, also over iBGP, where BIRD would otherwise keep the (absent) next hop.
    lines.push("    next hop self;");
    const nextHop = plan.nextHopAddress[family];
    if (nextHop) lines.push(`    next hop address ${nextHop};`);
    lines.push("  };");
  }
  lines.push("}");
  return lines;
}

function validInterfaceName(name: string): boolean {
  return /^[A-Za-z0-9_.:-]{1,15}$/.test(name);
}

export function renderBirdConfig(inputs: BirdInputs): RenderedBirdConfig {
  const { node, settings } = inputs;
  const iface = settings.virtualInterface;
  if (!validInterfaceName(iface)) {
    return { error: `virtual interface name "${iface}" is not a valid Linux interface name` };
  }
  if (node.ipv4 !== undefined && familyOf(node.ipv4) !== "IPv4") {
    return { error: `node "${node.name}": "${node.ipv4}" is not an IPv4 address` };
  }
  if (node.ipv6 !== undefined && familyOf(node.ipv6) !== "IPv6") {
    return { error: `node "${node.name}": "${node.ipv6}" is not an IPv6 address` };
  }

  const peers = peersForNode(inputs.peers, node.labels);
  for (let i = 1; i < peers.length; i++) {
    if (peers[i]!.name === peers[i - 1]!.name) {
      return { error: `BGPPeer "${peers[i]!.name}" is listed twice` };
    }
  }
  const plans: PeerPlan[] = [];
  for (const peer of peers) {
    const plan = planPeer(peer, inputs);
    if ("error" in plan) return plan;
    plans.push(plan);
  }

  const routerId =
    node.ipv4 ??
    peers
      .map((p) => p.spec.routerID)
      .filter((id) => id !== undefined)
      .sort()[0];
  if (routerId === undefined) {
    return {
      error: `node "${node.name}" has no IPv4 address to use as BGP router ID; set routerID on its BGPPeers`,
    };
  }

  const advertisements: CompiledAdvertisement[] = [];
  for (const advertisement of [...inputs.advertisements].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  )) {
    const compiled = compileAdvertisement(advertisement);
    if ("error" in compiled) return compiled;
    advertisements.push(compiled);
  }
  const parsed = parseRoutes(inputs.routes);
  if ("error" in parsed) return parsed;
  const prefixes: ParsedPrefix[] = parsed.prefixes;

  const lines = [
    // The name as a DNS subdomain allows; anything else (a newline would end the comment and
    // start configuration) is replaced.
    `# bird.conf for node ${node.name.replace(/[^A-Za-z0-9.-]/g, "_")}, rendered by the Herald agent; edits are overwritten.`,
    "",
    // BIRD logs to syslog unless told otherwise; the agent runs it in the foreground and
    // passes its stderr on to the agent's log.
    "log stderr { info, remote, warning, error, auth, fatal, bug };",
    // A full date with its zone, without spaces, so `show protocols` gives a parseable
    // "since" (BIRD's default shows only the time of day for today).
    `timeformat protocol "%Y-%m-%dT%H:%M:%S%z";`,
    `router id ${routerId};`,
    "",
    // Interface and address changes reach BIRD through netlink; the scan is only a fallback.
    "protocol device {",
    "}",
    "",
    // A device route for each address prefix on the virtual interface: a /32 address gives
    // the /32 route, an aggregated one (say /28) the /28. `check link` stays off, because
    // the port-less bridge used where `dummy` is missing never has carrier.
    `protocol direct ${DIRECT_PROTOCOL} {`,
    "  ipv4;",
    "  ipv6;",
    `  interface ${quote(iface)};`,
    "}",
  ];
  if (plans.some((p) => p.bfd)) {
    // The timers are per session (in each `protocol bgp`); this instance runs the sessions.
    lines.push("", `protocol bfd ${BFD_PROTOCOL} {`, "}");
  }
  for (const plan of plans) {
    for (const family of plan.families) {
      const groups = exportGroups(
        plan.peer,
        plan.internal,
        family,
        advertisements,
        prefixes,
        inputs.poolLabels,
      );
      lines.push("", ...renderFilter(exportFilterName(plan.protocol, family), iface, groups));
    }
    lines.push("", ...renderPeer(plan, routerId));
  }
  return { config: lines.join("\n") + "\n" };
}
