// Which interface a local address goes on. The kernel answers ARP/NDP for an address only
// usefully on the link whose subnet holds it, so by default that is the interface chosen.
import { FAMILY_BITS, parseAddress, type Address } from "../../ip.ts";
import type { InterfaceAddress, KernelInterface } from "./interfaces.ts";

export type InterfaceChoice = { interface: string } | { error: string };

/**
 * Picks the interface for a local address.
 *
 * Without regexes: among interfaces that are up, not loopback, not a port of a bridge or
 * bond, and not the agent's own routed-mode interface, the one with a subnet holding the
 * address; the longest prefix wins, then the lowest name. Only subnets the operator made
 * count: the agent's own addresses, host addresses (/32, /128), point-to-point peers and
 * link-local prefixes say nothing about which link an address lives on.
 *
 * With regexes (a pool's `interfaces`, else AgentConfig `localInterfaces`): only interfaces
 * whose name one of them matches, then the same rule. A regex is used as written — like Go's
 * MatchString it may match part of a name, so `^eth0$` is needed for exactly eth0. When no
 * matching interface has a subnet holding the address, the first interface that is up and
 * matches (trying the regexes in their order) is chosen anyway: naming interfaces is an
 * explicit choice, made for links where the address is routed to the node rather than
 * inside an interface's subnet, and the operator is trusted to know the link.
 *
 * An invalid regex is reported, never thrown, and never ignored: a typo must not quietly
 * move addresses to another link.
 */
export function chooseInterface(
  address: string,
  interfaces: readonly KernelInterface[],
  regexes?: readonly string[],
): InterfaceChoice {
  const target = parseAddress(address);
  if (!target) return { error: `"${address}" is not an IP address` };
  const usable = interfaces.filter((i) => !i.loopback && !i.virtual && i.master === undefined);

  if (!regexes || regexes.length === 0) {
    const chosen = bestSubnetMatch(
      target,
      usable.filter((i) => i.up),
    );
    if (chosen) return { interface: chosen };
    const down = bestSubnetMatch(
      target,
      usable.filter((i) => !i.up),
    );
    return {
      error:
        `no interface on this node has a subnet containing ${address}` +
        (down ? ` (${down} has one but is down)` : ""),
    };
  }

  const compiled = compileRegexes(regexes);
  if ("error" in compiled) return compiled;
  const named = usable.filter((i) => compiled.patterns.some((p) => p.test(i.name)));
  const listed = regexes.map((r) => JSON.stringify(r)).join(", ");
  if (named.length === 0) return { error: `no interface on this node matches ${listed}` };
  const up = named.filter((i) => i.up);
  if (up.length === 0) {
    return {
      error: `every interface on this node matching ${listed} is down (${names(named)})`,
    };
  }
  const chosen = bestSubnetMatch(target, up);
  if (chosen) return { interface: chosen };
  for (const pattern of compiled.patterns) {
    const first = up.find((i) => pattern.test(i.name));
    if (first) return { interface: first.name };
  }
  // Unreachable: `up` is non-empty and each of its members matched some pattern.
  throw new Error("chooseInterface: a matching interface vanished");
}

/** The interface with the longest operator-made subnet holding the address, ties by name. */
function bestSubnetMatch(
  target: Address,
  interfaces: readonly KernelInterface[],
): string | undefined {
  let best: { name: string; prefixLength: number } | undefined;
  for (const iface of interfaces) {
    for (const entry of iface.addresses) {
      if (!isSubnet(entry) || !contains(entry, target)) continue;
      const better =
        !best ||
        entry.prefixLength > best.prefixLength ||
        (entry.prefixLength === best.prefixLength && iface.name < best.name);
      if (better) best = { name: iface.name, prefixLength: entry.prefixLength };
    }
  }
  return best?.name;
}

/** An address that tells which link a subnet lives on: one the operator made, not a host address. */
export function isSubnet(entry: InterfaceAddress): boolean {
  if (entry.owned || entry.peer !== undefined) return false;
  if (entry.prefixLength >= FAMILY_BITS[entry.family]) return false;
  const parsed = parseAddress(entry.address);
  return parsed !== undefined && !isLinkLocal(parsed);
}

const LINK_LOCAL: Record<Address["family"], { network: bigint; prefixLength: number }> = {
  IPv4: { network: 0xa9fe0000n, prefixLength: 16 }, // 169.254.0.0/16
  IPv6: { network: 0xfe80n << 112n, prefixLength: 10 }, // fe80::/10
};

/** `entry` is a subnet (isSubnet) and `address` lies in it. */
export function subnetHolds(entry: InterfaceAddress, address: string): boolean {
  const target = parseAddress(address);
  return target !== undefined && isSubnet(entry) && contains(entry, target);
}

function isLinkLocal(address: Address): boolean {
  const { network, prefixLength } = LINK_LOCAL[address.family];
  return samePrefix(address.family, address.value, network, prefixLength);
}

function contains(entry: InterfaceAddress, target: Address): boolean {
  const network = parseAddress(entry.address);
  if (!network || network.family !== target.family) return false;
  return samePrefix(target.family, network.value, target.value, entry.prefixLength);
}

function samePrefix(family: Address["family"], a: bigint, b: bigint, prefixLength: number) {
  const hostBits = BigInt(FAMILY_BITS[family] - prefixLength);
  return a >> hostBits === b >> hostBits;
}

export function compileRegexes(
  regexes: readonly string[],
): { patterns: RegExp[] } | { error: string } {
  const patterns: RegExp[] = [];
  const problems: string[] = [];
  for (const source of regexes) {
    try {
      // The "u" flag makes the syntax strict (no silently literal "\e"), closer to the RE2
      // that Kubernetes users write for Go projects.
      patterns.push(new RegExp(source, "u"));
    } catch (error) {
      problems.push(`interface regex ${JSON.stringify(source)} is invalid: ${messageOf(error)}`);
    }
  }
  return problems.length > 0 ? { error: problems.join("; ") } : { patterns };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function names(interfaces: readonly KernelInterface[]): string {
  return interfaces.map((i) => i.name).join(", ");
}
