// The node's interfaces and addresses as the agent sees them, read from `ip -j -d addr show`.
// Everything the agent decides about the kernel (which interface, what to add or remove)
// is decided on this data, so the decisions can be tested without a kernel.
import { formatAddress, parseAddress, type Family } from "../../ip.ts";

/**
 * The ownership marker. iproute2 6.1 cannot set an address's `proto`, so the addresses
 * the agent puts on an interface carry `noprefixroute` and this address metric instead;
 * the metric is inert because `noprefixroute` means no prefix route is made to carry it.
 * An address is the agent's iff it has both, and the agent never removes any other.
 */
export const OWNED_ADDRESS_METRIC = 7474;

/**
 * The alias (`ip link set NAME alias ...`) the agent gives the interface it makes for routed
 * addresses, so that it is recognisable even when it had to be a bridge rather than a dummy.
 */
export const VIRTUAL_INTERFACE_ALIAS = "herald: routed addresses";

export interface InterfaceAddress {
  /** Canonical text (dotted quad, or RFC 5952 IPv6). */
  readonly address: string;
  readonly family: Family;
  readonly prefixLength: number;
  /** Put there by the agent: `noprefixroute` and metric OWNED_ADDRESS_METRIC. */
  readonly owned: boolean;
  readonly noprefixroute: boolean;
  /** The far end of a point-to-point address; its prefix describes the peer, not a subnet. */
  readonly peer?: string;
}

export interface KernelInterface {
  readonly name: string;
  readonly index: number;
  /** Administratively up (flag UP) and not reported down by the driver (operstate). */
  readonly up: boolean;
  readonly loopback: boolean;
  /** Link-layer address; absent on interfaces without one (tunnels, loopback reports zeros). */
  readonly mac?: string;
  /** `linkinfo.info_kind`: "bridge", "veth", "dummy", "vlan", …; absent on physical NICs. */
  readonly kind?: string;
  readonly mtu: number;
  /** The bridge or bond this interface is a port of; its addresses belong to the master. */
  readonly master?: string;
  /** The agent's own interface for routed addresses (alias VIRTUAL_INTERFACE_ALIAS). */
  readonly virtual: boolean;
  readonly addresses: readonly InterfaceAddress[];
}

// operstate values that mean no traffic can pass even though the interface is set up.
// UNKNOWN is not among them: loopback, dummy and many virtual drivers never report a state.
const DOWN_OPERSTATES = new Set(["DOWN", "LOWERLAYERDOWN", "NOTPRESENT"]);

/**
 * Turns the JSON of `ip -j -d addr show` (iproute2 ≥ 5) into interfaces. Entries that are
 * not addresses of a known family (e.g. `link` for MPLS) are skipped rather than refused,
 * since a node may carry anything.
 */
export function parseAddrShow(json: unknown): KernelInterface[] {
  if (!Array.isArray(json)) throw new Error("ip -j addr show: expected a JSON array");
  return json.map(parseInterface);
}

function parseInterface(entry: unknown): KernelInterface {
  const link = record(entry, "interface");
  const name = link["ifname"];
  const index = link["ifindex"];
  if (typeof name !== "string" || typeof index !== "number") {
    throw new Error("ip -j addr show: an interface without ifname or ifindex");
  }
  const flags = Array.isArray(link["flags"]) ? link["flags"] : [];
  const operstate = typeof link["operstate"] === "string" ? link["operstate"] : "UNKNOWN";
  const linkinfo = link["linkinfo"];
  const kind =
    linkinfo !== null && typeof linkinfo === "object"
      ? (linkinfo as Record<string, unknown>)["info_kind"]
      : undefined;
  const loopback = flags.includes("LOOPBACK") || link["link_type"] === "loopback";
  const mac = link["address"];
  const master = link["master"];
  const addrInfo = Array.isArray(link["addr_info"]) ? link["addr_info"] : [];
  return {
    name,
    index,
    up: flags.includes("UP") && !DOWN_OPERSTATES.has(operstate),
    loopback,
    ...(typeof mac === "string" && !loopback ? { mac } : {}),
    ...(typeof kind === "string" ? { kind } : {}),
    mtu: typeof link["mtu"] === "number" ? link["mtu"] : 0,
    ...(typeof master === "string" ? { master } : {}),
    virtual: link["ifalias"] === VIRTUAL_INTERFACE_ALIAS,
    addresses: addrInfo.flatMap(parseAddressEntry),
  };
}

function parseAddressEntry(entry: unknown): InterfaceAddress[] {
  const info = record(entry, "address");
  if (info["family"] !== "inet" && info["family"] !== "inet6") return [];
  const local = typeof info["local"] === "string" ? parseAddress(info["local"]) : undefined;
  const prefixLength = info["prefixlen"];
  if (!local || typeof prefixLength !== "number") return [];
  const noprefixroute = info["noprefixroute"] === true;
  // `address` differs from `local` only on point-to-point addresses ("local A peer B/n").
  const peer = typeof info["address"] === "string" ? parseAddress(info["address"]) : undefined;
  const peerText = peer && formatAddress(peer);
  const address = formatAddress(local);
  return [
    {
      address,
      family: local.family,
      prefixLength,
      owned: noprefixroute && info["metric"] === OWNED_ADDRESS_METRIC,
      noprefixroute,
      ...(peerText !== undefined && peerText !== address ? { peer: peerText } : {}),
    },
  ];
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error(`ip -j addr show: expected an object for each ${what}`);
  }
  return value as Record<string, unknown>;
}
