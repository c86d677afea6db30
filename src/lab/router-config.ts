// The configuration of the lab router's BGP daemon (`lab up --router bird|frr|gobgp`),
// rendered from the topology alone. Pure, so each daemon's exact configuration is tested
// without root; router.ts writes it and starts the daemons.
//
// Every daemon does the same job: it listens (passive) for one BGP session per node and
// family — the node's LAN IPv4, and its LAN IPv6 with --ipv6 — from AS 64513 (all nodes
// share it, so every session is eBGP and equal paths from several nodes are equal),
// imports everything, exports nothing, and installs equal paths as one multipath route
// in the router's kernel (ECMP), so traffic from the client is spread over the nodes
// that announce an address. BFD (100 ms, multiplier 3) watches each node where the
// daemon has BFD: BIRD and FRR do, GoBGP does not (shorter hold timers stand in).
import { join } from "node:path";
import { ROUTERS, type RouterKind, type Topology } from "./topology.ts";

export { ROUTERS, type RouterKind };

export const ROUTER_ASN = 64512;
export const NODE_ASN = 64513;

/** The nodes' AS: their own (eBGP), or the router's with `lab up --ibgp`. */
export function nodeAsn(options: { ibgp?: boolean }): number {
  return options.ibgp ? ROUTER_ASN : NODE_ASN;
}
/** BFD timers towards the nodes, for the daemons that have BFD. */
export const BFD = { minRxMs: 100, minTxMs: 100, multiplier: 3 } as const;
/** GoBGP has no BFD: a node that dies silently is noticed when this hold time runs out. */
export const GOBGP_HOLD_SECONDS = 9;
/** gobgpd's API, on the router namespace's own loopback (so labs do not collide). */
export const GOBGP_API_PORT = 50051;

/** One BGP neighbour of the router: a node's address in one family. */
export interface RouterPeer {
  readonly node: string;
  readonly family: "ipv4" | "ipv6";
  readonly address: string;
  /** A name the daemon accepts for the session: node1_v4, node1_v6. */
  readonly name: string;
}

/** Works on the topology's nodes and on `lab info`'s alike. */
export function routerPeers(
  nodes: readonly { name: string; ipv4: string; ipv6: string | null }[],
): RouterPeer[] {
  const peers: RouterPeer[] = [];
  for (const node of nodes) {
    peers.push({ node: node.name, family: "ipv4", address: node.ipv4, name: `${node.name}_v4` });
    if (node.ipv6)
      peers.push({ node: node.name, family: "ipv6", address: node.ipv6, name: `${node.name}_v6` });
  }
  return peers;
}

/** Where a lab's router keeps its configuration, sockets and (FRR's) pid files. */
export function routerDir(labDir: string): string {
  return join(labDir, "router");
}

export const birdSocket = (labDir: string) => join(routerDir(labDir), "bird.ctl");

/** The command (and its fixed arguments) that talks to the daemon, run in the router namespace. */
export function controlCommand(router: RouterKind, labDir: string): string[] {
  switch (router) {
    case "bird":
      return ["birdc", "-s", birdSocket(labDir)];
    case "gobgp":
      return ["gobgp", "-p", String(GOBGP_API_PORT)];
    case "frr":
      return ["vtysh", "--vty_socket", routerDir(labDir)];
  }
}

/** A few useful control commands, for `lab info` and the docs. */
export function controlExamples(router: RouterKind, labDir: string): string[][] {
  const base = controlCommand(router, labDir);
  switch (router) {
    case "bird":
      return [
        [...base, "show", "protocols"],
        [...base, "show", "route", "all"],
        [...base, "show", "bfd", "sessions"],
      ];
    case "gobgp":
      return [
        [...base, "neighbor"],
        [...base, "global", "rib"],
      ];
    case "frr":
      return [
        [...base, "-c", "show bgp summary"],
        [...base, "-c", "show ip route bgp"],
        [...base, "-c", "show bfd peers brief"],
      ];
  }
}

const header = (comment: string) =>
  `${comment} The lab router's BGP configuration, written by herald lab up (docs/lab.md).\n`;

/** BIRD 2: one BGP protocol per peer, kernel protocols that merge equal paths (ECMP). */
export function birdConfig(topology: Topology): string {
  const routerLan = topology.router.lan;
  const families = routerLan.ipv6 ? (["ipv4", "ipv6"] as const) : (["ipv4"] as const);
  const lines = [
    header("#"),
    "log stderr { info, remote, warning, error, auth, fatal, bug };",
    // No spaces in the time, so `show protocols` splits into fixed columns.
    'timeformat protocol "%FT%T";',
    `router id ${routerLan.ipv4};`,
    "",
    "protocol device {}",
    "",
  ];
  for (const family of families) {
    // merge paths: equal best routes from several nodes become one multipath route.
    lines.push(
      `protocol kernel kernel_${family} {`,
      `  ${family} { import none; export all; };`,
      "  merge paths on;",
      "}",
      "",
    );
  }
  lines.push(
    "protocol bfd {",
    `  interface "eth0" { min rx interval ${BFD.minRxMs} ms; min tx interval ${BFD.minTxMs} ms; multiplier ${BFD.multiplier}; };`,
    "}",
    "",
  );
  for (const family of families) {
    lines.push(
      `template bgp nodes_${family} {`,
      `  local ${routerLan[family]} as ${ROUTER_ASN};`,
      "  passive on;",
      "  bfd on;",
      // After a failure (BFD down, a node that left), listen again within a second
      // rather than the default minute; the lab heals nodes and expects them back.
      "  error wait time 1, 5;",
      // iBGP peers count as multihop unless told: the nodes are on the LAN, and their
      // next hops are themselves.
      ...(topology.options.ibgp ? ["  direct;"] : []),
      // RFC 8326: a path with GRACEFUL_SHUTDOWN loses to the others, so a draining
      // node's traffic moves before it withdraws. (BIRD does not do this by itself.)
      `  ${family} { import filter { if (65535, 0) ~ bgp_community then bgp_local_pref = 0; accept; }; export none; };`,
      "}",
      "",
    );
  }
  for (const peer of routerPeers(topology.nodes))
    lines.push(
      `protocol bgp ${peer.name} from nodes_${peer.family} { neighbor ${peer.address} as ${nodeAsn(topology.options)}; }`,
    );
  return `${lines.join("\n")}\n`;
}

/** FRR: one file per daemon (each parses only its own), keyed by daemon. */
export function frrConfigs(topology: Topology): { zebra: string; bfdd: string; bgpd: string } {
  const hostname = `hostname ${topology.routerNamespace}`;
  const routerLan = topology.router.lan;
  const peers = routerPeers(topology.nodes);
  const families = routerLan.ipv6 ? (["ipv4", "ipv6"] as const) : (["ipv4"] as const);
  const bgpd = [
    header("!"),
    hostname,
    "log stdout informational",
    "!",
    "route-map NODES-IN permit 10",
    "exit",
    // Nodes send a global and a link-local IPv6 next hop; FRR would install the
    // link-local one. The global one names the node, as ip route and the tests expect.
    "route-map NODES-IN-IPV6 permit 10",
    " set ipv6 next-hop prefer-global",
    "exit",
    "route-map NODES-OUT deny 10",
    "exit",
    "!",
    `router bgp ${ROUTER_ASN}`,
    ` bgp router-id ${routerLan.ipv4}`,
    " no bgp default ipv4-unicast",
    " bgp bestpath as-path multipath-relax",
  ];
  for (const family of families)
    bgpd.push(
      ` neighbor nodes_${family} peer-group`,
      ` neighbor nodes_${family} remote-as ${nodeAsn(topology.options)}`,
      ` neighbor nodes_${family} passive`,
      ` neighbor nodes_${family} bfd`,
      ` neighbor nodes_${family} bfd profile nodes`,
    );
  for (const peer of peers) bgpd.push(` neighbor ${peer.address} peer-group nodes_${peer.family}`);
  for (const family of families)
    bgpd.push(
      ` address-family ${family} unicast`,
      "  maximum-paths 16",
      "  maximum-paths ibgp 16",
      `  neighbor nodes_${family} activate`,
      `  neighbor nodes_${family} route-map ${family === "ipv6" ? "NODES-IN-IPV6" : "NODES-IN"} in`,
      `  neighbor nodes_${family} route-map NODES-OUT out`,
      " exit-address-family",
    );
  bgpd.push("exit");
  const bfdd = [
    header("!"),
    hostname,
    "log stdout informational",
    "!",
    "bfd",
    " profile nodes",
    `  receive-interval ${BFD.minRxMs}`,
    `  transmit-interval ${BFD.minTxMs}`,
    `  detect-multiplier ${BFD.multiplier}`,
    " exit",
    "exit",
  ];
  const zebra = [header("!"), hostname, "log stdout informational"];
  return {
    zebra: `${zebra.join("\n")}\n`,
    bfdd: `${bfdd.join("\n")}\n`,
    bgpd: `${bgpd.join("\n")}\n`,
  };
}

/**
 * gobgpd (TOML). GoBGP keeps routes to itself: the lab's FIB installer (gobgp-fib.ts)
 * copies its multipath routes into the kernel.
 */
export function gobgpConfig(topology: Topology): string {
  const routerLan = topology.router.lan;
  const addresses = [routerLan.ipv4, ...(routerLan.ipv6 ? [routerLan.ipv6] : [])];
  const lines = [
    header("#"),
    "[global.config]",
    `  as = ${ROUTER_ASN}`,
    `  router-id = "${routerLan.ipv4}"`,
    `  local-address-list = [${addresses.map((address) => `"${address}"`).join(", ")}]`,
    "[global.use-multiple-paths.config]",
    "  enabled = true",
    "[global.apply-policy.config]",
    '  default-import-policy = "accept-route"',
    '  default-export-policy = "reject-route"',
  ];
  for (const peer of routerPeers(topology.nodes))
    lines.push(
      "",
      "[[neighbors]]",
      "  [neighbors.config]",
      `    neighbor-address = "${peer.address}"`,
      `    peer-as = ${nodeAsn(topology.options)}`,
      `    description = "${peer.name}"`,
      "  [neighbors.timers.config]",
      `    hold-time = ${GOBGP_HOLD_SECONDS}`,
      `    keepalive-interval = ${GOBGP_HOLD_SECONDS / 3}`,
      // A node that comes back is taken again at once, not after 30 s.
      "    idle-hold-time-after-reset = 1",
      "  [neighbors.transport.config]",
      "    passive-mode = true",
      `    local-address = "${routerLan[peer.family]}"`,
      "  [[neighbors.afi-safis]]",
      "    [neighbors.afi-safis.config]",
      `      afi-safi-name = "${peer.family}-unicast"`,
    );
  return `${lines.join("\n")}\n`;
}
