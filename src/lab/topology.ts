// The lab's shape, computed from its options alone: which namespaces exist, which veth
// links join them, and every address, MAC and route. Pure — wiring.ts turns it into `ip`
// commands and info.ts into what `herald lab info` prints — so the same options always
// give the same lab, and `down` can recompute what `up` built.
//
// Addresses come from the RFC 2544 benchmarking space (198.18.0.0/15), which no real
// network routes, and from the ULA prefix fd48:4c42::/32 ("HL"). A lab's index k picks
// its share, so labs with different names can run side by side:
//   LAN 198.18.<2k>.0/24, fd48:4c42:<k>::/64          router .1, host .2, lanclient .3,
//                                                      nodes .11 up, local pool .200-.250
//   client link 198.18.<2k+1>.0/24, fd48:4c42:<k>:1::/64   router .1, client .2
//   routed pool 198.19.<k>.0/24, fd48:4c42:<k>:100::/64     (reached through the router)
// IPv6 groups repeat the decimal digits of k and of the IPv4 host octet (lab 50, .11 →
// fd48:4c42:50::11), so the two families read alike; k ≤ 127 keeps them valid hex.
import { createHash } from "node:crypto";
import ipaddr from "ipaddr.js";

/** The routing daemons the lab's router can run. */
export const ROUTERS = ["bird", "frr", "gobgp"] as const;
export type RouterKind = (typeof ROUTERS)[number];

export interface LabOptions {
  readonly name: string;
  readonly nodes: number;
  readonly ipv6: boolean;
  /** 0..MAX_INDEX; defaultIndex(name) unless chosen. */
  readonly index: number;
  /** The BGP daemon in the router namespace (router.ts); unset or null: none. */
  readonly router?: RouterKind | null;
  /** The nodes share the router's AS (iBGP) rather than their own (eBGP, the default). */
  readonly ibgp?: boolean;
  /** The API server: devkube (the default), or a real control plane and kube-proxy. */
  readonly kube?: KubeBackend;
  /** kube-proxy's mode with kube "real"; nftables unless chosen. */
  readonly proxyMode?: "nftables" | "iptables";
}

export type KubeBackend = "devkube" | "real";

export const MAX_INDEX = 127;
export const MAX_NODES = 100;
/** devkube's port on the host's LAN address; each lab has its own address, so it is fixed. */
export const API_PORT = 6443;
export const BACKEND_PORT = 80;
export const BRIDGE = "br0";

/** Both families of one thing; ipv6 is null when the lab runs without IPv6. */
export interface FamilyPair {
  readonly ipv4: string;
  readonly ipv6: string | null;
}

/** One end of a veth pair. namespace null is the host (root) namespace. */
export interface LinkEnd {
  readonly namespace: string | null;
  readonly name: string;
  /** Fixed so captures read the same every run; null lets the kernel pick. */
  readonly mac: string | null;
  /** With prefix length, e.g. "198.18.0.11/24". */
  readonly addresses: readonly string[];
  /** Bridge this end is a port of (in its namespace). */
  readonly bridge: string | null;
}

export interface VethLink {
  readonly a: LinkEnd;
  readonly b: LinkEnd;
}

export interface DefaultRoute {
  readonly namespace: string;
  readonly via: string;
}

export interface LabNamespace {
  readonly name: string;
  readonly role: "lan" | "router" | "client" | "lanclient" | "node";
  /** Written with `sysctl -w` right after the namespace is made, before any link exists. */
  readonly sysctls: Readonly<Record<string, string>>;
}

export interface LabNode extends FamilyPair {
  readonly name: string;
  readonly namespace: string;
  readonly interface: string;
  readonly mac: string;
  /** The veth end on the LAN bridge (in the lan namespace) that `fail` takes down. */
  readonly bridgePort: string;
}

export interface Topology {
  readonly options: LabOptions;
  /** Every namespace of this lab is named prefix + role (or node name). */
  readonly prefix: string;
  readonly namespaces: readonly LabNamespace[];
  readonly lanNamespace: string;
  readonly routerNamespace: string;
  readonly clientNamespace: string;
  readonly lanclientNamespace: string;
  readonly links: readonly VethLink[];
  readonly routes: readonly DefaultRoute[];
  readonly host: FamilyPair & { readonly interface: string };
  /** Host sysctls for the host's veth end (the host's own settings stay as they are). */
  readonly hostSysctls: Readonly<Record<string, string>>;
  readonly nodes: readonly LabNode[];
  readonly router: { readonly lan: FamilyPair; readonly client: FamilyPair };
  readonly client: FamilyPair;
  readonly lanclient: FamilyPair;
  readonly lan: FamilyPair;
  readonly clientLink: FamilyPair;
  readonly localPool: FamilyPair;
  readonly routedPool: FamilyPair;
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?$/;

/** A user's mistake in the options, worded for the command line. */
export function checkOptions(options: LabOptions): string | undefined {
  if (!NAME.test(options.name))
    return `lab name "${options.name}" must be 1-20 lowercase letters, digits or '-', not starting or ending with '-'`;
  if (!Number.isInteger(options.nodes) || options.nodes < 1 || options.nodes > MAX_NODES)
    return `--nodes must be from 1 to ${MAX_NODES}`;
  if (!Number.isInteger(options.index) || options.index < 0 || options.index > MAX_INDEX)
    return `--index must be from 0 to ${MAX_INDEX}`;
  return undefined;
}

/**
 * The default lab "lab" gets index 0 (the addresses the docs show); any other name a
 * hash-picked index from 1 up, so it never meets the default lab. Two other names may
 * still meet (1 in 127); `up` notices the clash and `--index` resolves it.
 */
export function defaultIndex(name: string): number {
  if (name === "lab") return 0;
  return 1 + (createHash("sha256").update(name).digest().readUInt32BE(0) % MAX_INDEX);
}

export function namespacePrefix(name: string): string {
  return `hl-${name}-`;
}

/** Matches exactly this lab's namespaces: "hl-lab-" must not catch lab "lab-2"'s. */
export function ownsNamespace(name: string, namespace: string): boolean {
  const prefix = namespacePrefix(name);
  if (!namespace.startsWith(prefix)) return false;
  return /^(lan|router|client|lanclient|node[1-9][0-9]*)$/.test(namespace.slice(prefix.length));
}

/** The host's veth end: names are at most 15 characters, so it carries the index, not the name. */
export function hostInterfaceName(index: number): string {
  return `hl${index}-host`;
}

/**
 * Whether a host route would take traffic meant for one of the lab's subnets: a route
 * inside the subnet, or the subnet itself. A broader one (say, all of 198.18.0.0/15)
 * does not, as the lab's own connected route is more specific and wins.
 */
export function routeClashes(subnet: string, route: string): boolean {
  try {
    const [network, length] = ipaddr.parseCIDR(subnet);
    const [address, routeLength] = route.includes("/")
      ? ipaddr.parseCIDR(route)
      : [ipaddr.parse(route), route.includes(":") ? 128 : 32];
    if (network.kind() !== address.kind() || routeLength < length) return false;
    return address.match(network as never, length);
  } catch {
    return false; // not an address: some route type ip prints another way
  }
}

export function topology(options: LabOptions): Topology {
  const { name, index: k, ipv6 } = options;
  const prefix = namespacePrefix(name);
  const ns = (role: string) => `${prefix}${role}`;
  const lan4 = (host: number) => `198.18.${2 * k}.${host}`;
  const link4 = (host: number) => `198.18.${2 * k + 1}.${host}`;
  const lan6 = (host: number) => (ipv6 ? v6(`fd48:4c42:${k}::${host}`) : null);
  const link6 = (host: number) => (ipv6 ? v6(`fd48:4c42:${k}:1::${host}`) : null);
  const pair = (ipv4: string, ipv6Address: string | null): FamilyPair => ({
    ipv4,
    ipv6: ipv6Address,
  });
  // 02: locally administered; 48:4c is "HL"; then the index, the subnet, the host octet.
  const mac = (subnet: number, host: number) =>
    ["02", "48", "4c", k, subnet, host].map((part) => hex2(part)).join(":");
  const cidrs = (address: FamilyPair) => [
    `${address.ipv4}/24`,
    ...(address.ipv6 ? [`${address.ipv6}/64`] : []),
  ];

  const lanNamespace = ns("lan");
  const routerNamespace = ns("router");
  const clientNamespace = ns("client");
  const lanclientNamespace = ns("lanclient");

  const routerLan = pair(lan4(1), lan6(1));
  const host = pair(lan4(2), lan6(2));
  const lanclient = pair(lan4(3), lan6(3));
  const routerClient = pair(link4(1), link6(1));
  const client = pair(link4(2), link6(2));

  const nodes: LabNode[] = [];
  for (let i = 1; i <= options.nodes; i++) {
    const octet = 10 + i;
    nodes.push({
      name: `node${i}`,
      namespace: ns(`node${i}`),
      interface: "eth0",
      ...pair(lan4(octet), lan6(octet)),
      mac: mac(0, octet),
      bridgePort: `node${i}`,
    });
  }

  const onBridge = (port: string): LinkEnd => ({
    namespace: lanNamespace,
    name: port,
    mac: null,
    addresses: [],
    bridge: BRIDGE,
  });
  const end = (
    namespace: string | null,
    ifname: string,
    macAddress: string | null,
    at: FamilyPair,
  ) => ({
    namespace,
    name: ifname,
    mac: macAddress,
    addresses: cidrs(at),
    bridge: null,
  });
  const hostInterface = hostInterfaceName(k);
  const links: VethLink[] = [
    { a: end(null, hostInterface, mac(0, 2), host), b: onBridge("host") },
    { a: end(routerNamespace, "eth0", mac(0, 1), routerLan), b: onBridge("router") },
    { a: end(lanclientNamespace, "eth0", mac(0, 3), lanclient), b: onBridge("lanclient") },
    ...nodes.map((node) => ({
      a: end(node.namespace, node.interface, node.mac, node),
      b: onBridge(node.bridgePort),
    })),
    {
      a: end(routerNamespace, "eth1", mac(1, 1), routerClient),
      b: end(clientNamespace, "eth0", mac(1, 2), client),
    },
  ];

  // Nodes answer ARP only for addresses on the asking interface and pick a source
  // address from the outgoing interface's subnet: kube-proxy hosts are set up this way,
  // and it keeps a node from answering for a LoadBalancer address it holds elsewhere.
  const nodeSysctls = {
    ...hostLike(ipv6),
    "net.ipv4.conf.all.arp_ignore": "1",
    "net.ipv4.conf.all.arp_announce": "2",
    // Real kube-proxy passes a Service's traffic on to endpoints on other nodes, which
    // needs forwarding on, as Kubernetes requires of every node. The lab's own backends
    // relay as a proxy would, so devkube labs keep the nodes as plain hosts.
    ...(options.kube === "real"
      ? { "net.ipv4.ip_forward": "1", ...(ipv6 ? { "net.ipv6.conf.all.forwarding": "1" } : {}) }
      : {}),
  };
  const namespaces: LabNamespace[] = [
    // The bridge's namespace carries no addresses of its own: IPv6 off keeps it silent
    // (no router solicitations or MLD from its ports), and bridged frames skip iptables
    // even where br_netfilter is loaded.
    {
      name: lanNamespace,
      role: "lan",
      sysctls: {
        "net.ipv6.conf.all.disable_ipv6": "1",
        "net.ipv6.conf.default.disable_ipv6": "1",
      },
    },
    {
      name: routerNamespace,
      role: "router",
      sysctls: {
        ...hostLike(ipv6),
        "net.ipv4.ip_forward": "1",
        // ECMP by ports as well as addresses, so one client's connections spread over the
        // nodes of a routed service, as a data-centre router's hashing does.
        "net.ipv4.fib_multipath_hash_policy": "1",
        ...(ipv6
          ? { "net.ipv6.conf.all.forwarding": "1", "net.ipv6.fib_multipath_hash_policy": "1" }
          : {}),
      },
    },
    { name: clientNamespace, role: "client", sysctls: hostLike(ipv6) },
    { name: lanclientNamespace, role: "lanclient", sysctls: hostLike(ipv6) },
    ...nodes.map((node) => ({ name: node.namespace, role: "node" as const, sysctls: nodeSysctls })),
  ];

  const routes: DefaultRoute[] = [];
  const via = (namespace: string, gateway: FamilyPair) => {
    routes.push({ namespace, via: gateway.ipv4 });
    if (gateway.ipv6) routes.push({ namespace, via: gateway.ipv6 });
  };
  // Nodes route through the router so that their replies to the client go back the
  // way the client's requests came; the lanclient too, to reach the routed side.
  for (const node of nodes) via(node.namespace, routerLan);
  via(lanclientNamespace, routerLan);
  via(clientNamespace, routerClient);

  return {
    options,
    prefix,
    namespaces,
    lanNamespace,
    routerNamespace,
    clientNamespace,
    lanclientNamespace,
    links,
    routes,
    host: { ...host, interface: hostInterface },
    hostSysctls: {
      // Loose reverse-path filtering: strict would drop packets from the lab's routed
      // side that reach the host over the LAN, as the host has no route back that way.
      [`net.ipv4.conf.${hostInterface}.rp_filter`]: "2",
      ...(ipv6
        ? {
            [`net.ipv6.conf.${hostInterface}.disable_ipv6`]: "0",
            [`net.ipv6.conf.${hostInterface}.accept_dad`]: "0",
            [`net.ipv6.conf.${hostInterface}.accept_ra`]: "0",
          }
        : {}),
    },
    nodes,
    router: { lan: routerLan, client: routerClient },
    client,
    lanclient,
    lan: pair(`198.18.${2 * k}.0/24`, ipv6 ? v6(`fd48:4c42:${k}::`) + "/64" : null),
    clientLink: pair(`198.18.${2 * k + 1}.0/24`, ipv6 ? v6(`fd48:4c42:${k}:1::`) + "/64" : null),
    localPool: pair(`${lan4(200)}-${lan4(250)}`, ipv6 ? `${lan6(200)}-${lan6(250)}` : null),
    routedPool: pair(`198.19.${k}.0/24`, ipv6 ? v6(`fd48:4c42:${k}:100::`) + "/64" : null),
  };
}

/**
 * Settings for every namespace that has addresses, when the lab runs IPv6. Static
 * addresses carry `nodad`, but link-local ones are made by the kernel: without DAD they
 * are usable at once, so NDP works the moment `up` returns rather than a second later.
 */
function hostLike(ipv6: boolean): Record<string, string> {
  if (!ipv6) return {};
  return {
    "net.ipv6.conf.all.disable_ipv6": "0",
    "net.ipv6.conf.default.disable_ipv6": "0",
    "net.ipv6.conf.all.accept_dad": "0",
    "net.ipv6.conf.default.accept_dad": "0",
  };
}

function v6(address: string): string {
  return ipaddr.parse(address).toString();
}

function hex2(value: string | number): string {
  return typeof value === "string" ? value : value.toString(16).padStart(2, "0");
}
