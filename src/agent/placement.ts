// Where a node puts a local address. For this node the agent reads its kernel; for the
// others it reads the interfaces their NodeState publishes — the same rule on the same
// kind of data, so every agent reaches the same election without asking anyone.
import type { NodeInterface } from "../api/nodestate.ts";
import { parseAddress } from "../ip.ts";
import { chooseInterface, compileRegexes, isSubnet } from "./kernel/choose.ts";
import type { KernelInterface } from "./kernel/interfaces.ts";

/** Where a node would put a local address, or why it cannot. */
export type Placement = { interface: string } | { error: string };

export function placeOn(
  address: string,
  interfaces: readonly KernelInterface[] | readonly NodeInterface[],
  regexes: readonly string[],
): Placement {
  return chooseInterface(address, asKernel(interfaces), regexes);
}

// Elections place every address on every eligible node: convert each published list once
// (informer objects are replaced, never changed, so the list itself is the cache key).
const converted = new WeakMap<readonly NodeInterface[], KernelInterface[]>();

/** Interfaces as the kernel lists them, a NodeState's published ones converted (cached). */
export function asKernel(
  interfaces: readonly KernelInterface[] | readonly NodeInterface[],
): readonly KernelInterface[] {
  if (interfaces.length === 0 || "index" in interfaces[0]!)
    return interfaces as readonly KernelInterface[];
  const published = interfaces as readonly NodeInterface[];
  let kernel = converted.get(published);
  if (!kernel) converted.set(published, (kernel = published.map(fromNodeState)));
  return kernel;
}

/** A published interface as the kernel would show it: up, with its subnets. */
function fromNodeState(published: NodeInterface): KernelInterface {
  return {
    name: published.name,
    index: 0,
    up: true,
    loopback: false,
    mtu: 0,
    virtual: false,
    addresses: published.subnets.flatMap((cidr) => {
      const [text, length] = cidr.split("/");
      const address = text === undefined ? undefined : parseAddress(text);
      if (!address) return [];
      return [
        {
          address: text!,
          family: address.family,
          prefixLength: Number(length),
          owned: false,
          noprefixroute: false,
        },
      ];
    }),
  };
}

/**
 * What this node publishes: the interfaces that can hold local addresses (up, not loopback,
 * not a bridge port, not the routed-mode interface) and the subnets the operator put on
 * them. Owned and host addresses are left out: they change with every takeover, and
 * publishing them would rewrite NodeState on each one.
 */
export function subnetsOf(interfaces: readonly KernelInterface[]): NodeInterface[] {
  return interfaces
    .filter((i) => i.up && !i.loopback && !i.virtual && i.master === undefined)
    .map((i) => ({
      name: i.name,
      subnets: i.addresses.filter(isSubnet).map((a) => `${a.address}/${a.prefixLength}`),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** The invalid regexes among `regexes`, each with the reason. */
export function regexProblems(regexes: readonly string[]): string[] {
  const compiled = compileRegexes(regexes);
  return "error" in compiled ? compiled.error.split("; ") : [];
}
